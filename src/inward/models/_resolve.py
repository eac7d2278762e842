"""Turn a `ModelRef` for local weights into something `from_pretrained` can load.

    resolve(ModelRef.parse("local/smollm2-135m"))   # -> Path of the converted fp32 folder (installs it)
    resolve(ModelRef.parse("hf/./my-model"))        # -> absolute Path of ./my-model if that folder exists
    resolve(ModelRef.parse("hf/Qwen/Qwen2.5-0.5B")) # -> "Qwen/Qwen2.5-0.5B" only with INWARD_ALLOW_HUB=1

The adapter part of a ref is not looked at: this resolves the base weights; adapters live in the store.
"""

from __future__ import annotations

import os
from pathlib import Path

from inward.errors import UserError
from inward.models import _install
from inward.models._registry import get
from inward.refs import ModelRef

ALLOW_HUB_ENV = "INWARD_ALLOW_HUB"


def resolve(ref: ModelRef | str, *, install: bool = True) -> Path | str:
    """Local folder (or, with INWARD_ALLOW_HUB=1, hub id) holding the base weights of `ref`."""
    ref = ModelRef.parse(ref)
    if ref.provider == "local":
        get(ref.name)  # unknown names fail here with the list of bundled models
        if install:
            return _install.install(ref.name)
        folder = _install.hf_path(ref.name)
        if folder is None:
            raise UserError(f"{ref.base} is not installed: run `inward models install {ref.name}`")
        return folder
    if ref.provider == "hf":
        path = Path(ref.name).expanduser()
        if path.is_dir():
            return path.resolve()
        if os.environ.get(ALLOW_HUB_ENV) == "1":
            return ref.name
        raise UserError(
            f"{ref.base}: no such local folder; hub ids need network (set {ALLOW_HUB_ENV}=1 to allow "
            "downloads) and a local path works offline (hf/./path or hf//absolute/path)"
        )
    raise UserError(
        f"{ref.base} is an API model and has no local weights: "
        "use local/NAME (see `inward models list`) or hf/PATH"
    )
