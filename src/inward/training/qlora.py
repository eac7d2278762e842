"""QLoRA: the frozen base in 4-bit NF4 (bitsandbytes), the LoRA adapter trained on top (Dettmers et al. 2023).

    TrainConfig(quantize="4bit")                # turns it on (`inward train --quantize 4bit`)
    bnb_config(torch.bfloat16).to_dict()        # what the base is loaded with: NF4, double quantisation

Memory (estimated, not measured here): NF4 stores 4 bits per weight plus, with double quantisation, about
0.13 bits of scaling constants, so the 68.5B quantised weights of Llama-3.1-70B are ~35 GB; the embeddings
and LM head (2.1B) stay unquantised and `prepare_model_for_kbit_training` keeps them and the norms in
float32 (~8 GB); a rank-8 adapter with its AdamW state is ~0.5 GB, and gradient checkpointing keeps
activations to a few GB at 256 tokens. About 45 GB in all: a 70B QLoRA fits one 80 GB GPU, where the
bfloat16 base alone is 140 GB.

The adapter learns against the quantised base, so its numbers differ from a bfloat16-base adapter: the
setting is part of the run digest, recorded in train.json's provenance and written into the adapter folder
(``inward-adapter.json``), which makes it part of the adapter's identity (`inward.backends.identity` hashes
every JSON file of an adapter folder). Serve such an adapter on the same 4-bit base for the same numbers.

Runs on CUDA. bitsandbytes >= 0.49 also runs 4-bit on CPU, slowly; that needs an explicit device='cpu' (the
tests use it) so that a GPU machine that lost its GPU fails with one line instead of crawling.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import torch

from inward.errors import UserError
from inward.training.config import TrainConfig

MARKER = "inward-adapter.json"
CPU_SINCE = (0, 49)  # the first bitsandbytes with a CPU backend for 4-bit layers


def bnb_config(compute_dtype: torch.dtype) -> Any:
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def _bnb_version() -> tuple[int, ...] | None:
    try:
        v = importlib.metadata.version("bitsandbytes")
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(x) for x in v.split(".")[:2] if x.isdigit())


def check_environment(config: TrainConfig, device: torch.device, kind: str = "single") -> None:
    """One UserError line when this machine or setup cannot train QLoRA."""
    if kind in ("fsdp", "deepspeed"):
        raise UserError(
            f"QLoRA (quantize='4bit') runs on one GPU or under ddp, not under {kind}; "
            "drop --quantize or use --accelerate-config ddp"
        )
    if device.type != "cuda" and config.device != "cpu":
        raise UserError(
            "QLoRA (quantize='4bit') needs a CUDA GPU (bitsandbytes 4-bit kernels); none is visible"
        )
    version = _bnb_version()
    if version is None:
        raise UserError("QLoRA (quantize='4bit') needs bitsandbytes: pip install bitsandbytes")
    if device.type == "cpu" and version < CPU_SINCE:
        raise UserError(
            "QLoRA on CPU needs bitsandbytes>=0.49 (its CPU backend): pip install -U bitsandbytes"
        )


def load_kwargs(config: TrainConfig, compute_dtype: torch.dtype, device: torch.device) -> dict[str, Any]:
    """`from_pretrained` arguments: quantise while loading, straight onto this process's device."""
    return {"quantization_config": bnb_config(compute_dtype), "device_map": {"": str(device)}}


def prepare(model: Any) -> Any:
    import warnings

    from peft import prepare_model_for_kbit_training

    with warnings.catch_warnings():
        # peft calls a transformers method that transformers 5 renamed; not actionable for users
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing_enable.*", category=FutureWarning)
        # Non-reentrant checkpointing: the reentrant kind breaks DDP's gradient hooks on the re-run forward.
        return prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False}
        )


def record(config: TrainConfig, compute_dtype: torch.dtype) -> dict[str, Any]:
    """How the base was quantised, for provenance and the adapter folder (the bitsandbytes version is in
    the provenance's package list)."""
    q = bnb_config(compute_dtype)
    return {
        "method": "bitsandbytes",
        "bits": 4,
        "quant_type": q.bnb_4bit_quant_type,
        "double_quant": q.bnb_4bit_use_double_quant,
        "compute_dtype": str(compute_dtype).removeprefix("torch."),
    }


def write_marker(adapter_dir: Path, quantization: dict[str, Any]) -> None:
    (adapter_dir / MARKER).write_text(json.dumps({"base_quantization": quantization}, indent=2) + "\n")
