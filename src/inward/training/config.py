"""Settings and results of a local LoRA fine-tune (pydantic, persisted in ``out_dir/train.json``).

Importing this module does not import torch, so the CLI and the store can read configs and results cheaply.

    cfg = TrainConfig(lr=5e-4, epochs=2, checkpoint_every=20)
    result = TrainResult.model_validate_json(Path("run/train.json").read_text())
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TrainConfig(BaseModel):
    """LoRA fine-tuning settings. Defaults follow the offline measurements (OFFLINE_MODELS.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(default=8, ge=1, description="LoRA rank r.")
    alpha: int = Field(default=16, gt=0, description="LoRA alpha (scaling = alpha / rank).")
    dropout: float = Field(default=0.0, ge=0, lt=1, description="Dropout on the LoRA branch.")
    target_modules: tuple[str, ...] = Field(
        default=("q_proj", "k_proj", "v_proj", "o_proj"),
        description="Names of the linear layers that get adapters.",
    )
    lr: float = Field(default=1e-3, gt=0, description="Peak learning rate (AdamW).")
    lr_scheduler: Literal["linear", "constant", "cosine"] = Field(
        default="linear", description="Schedule after warm-up (transformers.get_scheduler names)."
    )
    warmup_ratio: float = Field(default=0.0, ge=0, le=1, description="Share of optimizer steps warming up.")
    weight_decay: float = Field(default=0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float | None = Field(
        default=1.0, description="Clip gradients to this norm; None disables clipping."
    )
    epochs: int = Field(default=1, ge=1, description="Passes over the training data.")
    batch_size: int = Field(default=8, ge=1, description="Examples per micro-batch per process.")
    grad_accum: int = Field(default=1, ge=1, description="Micro-batches per optimizer step.")
    max_len: int = Field(
        default=256, ge=8, description="Longest sequence in tokens; longer prompts lose their start."
    )
    group_by_length: bool = Field(default=True, description="Batch examples of similar length.")
    seed: int = Field(default=0, description="Seeds adapter init, data order, validation split and dropout.")
    val_fraction: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Hold out this fraction of the data for validation (ignored with a val file).",
    )
    checkpoint_every: int = Field(
        default=0, ge=0, description="Save a resumable checkpoint every N optimizer steps (0: never)."
    )
    keep_checkpoints: bool = Field(default=False, description="Keep out_dir/checkpoints after success.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="Weights dtype: auto = float32 on CPU, bfloat16 on CUDA."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Where to train (auto: CUDA if present)."
    )
    init_adapter: str | None = Field(
        default=None,
        description="Continue training this PEFT adapter folder instead of a new adapter (its rank, alpha "
        "and target modules then apply); e.g. M1 -> MC in the behaviour-change experiment.",
    )
    quantize: Literal["4bit"] | None = Field(
        default=None,
        description="QLoRA: load the frozen base in 4-bit NF4 with double quantisation (bitsandbytes); the "
        "adapter trains in bfloat16 on CUDA. Changes the numbers, so it is part of the run digest and is "
        "recorded in the adapter folder (inward-adapter.json).",
    )
    accelerate_config: str | None = Field(
        default=None,
        description="Train under `accelerate launch` with this config: ddp, fsdp, zero3 (shipped with "
        "inward, see inward/training/accelerate/) or the path of an accelerate YAML file.",
    )
    num_processes: int | None = Field(
        default=None,
        ge=1,
        description="Processes `accelerate launch` starts (one per GPU); default: the config file's "
        "num_processes, else one per visible GPU, else 1.",
    )

    @field_validator("target_modules", mode="before")
    @classmethod
    def _as_tuple(cls, v: Any) -> Any:
        return tuple(v) if isinstance(v, list) else v

    def digest(self) -> str:
        """Hash of the settings that change the result (device, launcher and checkpoint bookkeeping
        excluded; the process count enters the run digest as the number of processes that actually ran)."""
        # init_adapter enters the run digest as a hash of its weights instead of its path. Settings added
        # later are left out while at their default, so the digests of earlier runs stay what they were.
        exclude = {"checkpoint_every", "keep_checkpoints", "device", "init_adapter"}
        exclude |= {"accelerate_config", "num_processes"}
        if self.quantize is None:
            exclude.add("quantize")
        d = self.model_dump(exclude=exclude)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


class TrainResult(BaseModel):
    """What a finished fine-tune produced; written to ``out_dir/train.json``."""

    model_config = ConfigDict(extra="forbid")

    adapter_dir: str = Field(description="PEFT adapter folder (load with PeftModel.from_pretrained).")
    out_dir: str
    base_path: str
    config: TrainConfig
    run_digest: str = Field(
        description="Hash of base, data and config; a re-run with the same digest is a no-op."
    )
    steps: int = Field(description="Optimizer steps taken in total.")
    n_train: int
    n_val: int
    n_truncated: int = Field(default=0, description="Training examples whose prompt was cut to fit max_len.")
    train_loss: list[float] = Field(description="Mean answer-token loss of every optimizer step.")
    val_loss_before: float | None = None
    val_loss_after: float | None = None
    resumed_from_step: int = 0
    wall_time_s: float = Field(description="Time of the whole call in this process (load, train, save).")
    train_time_s: float = Field(description="Time spent in the training loop by this call.")
    examples_per_s: float = Field(description="Training examples processed per second of training loop.")
    provenance: dict[str, Any] = Field(default_factory=dict)
