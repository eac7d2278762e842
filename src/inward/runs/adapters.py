"""Trained adapters in the store: train one, register it, and resolve `+adapter=NAME` refs to folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inward.errors import UserError
from inward.refs import ModelRef


def adapter_resolver(store: Any) -> Callable[[str], Path]:
    def resolve(name: str) -> Path:
        rec = store.get_model(name)
        if rec is None or rec.path is None:
            raise UserError(f"no trained adapter named {name!r} in {store.path.parent}; see `inward train`")
        return Path(rec.path)

    return resolve


def train_and_register(
    store: Any,
    *,
    name: str,
    base: str,
    data: str | Path,
    plan: dict[str, Any],
    seed: int = 0,
    init_adapter: str | None = None,
    val_data: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune a LoRA adapter for the local model `base` on chat JSONL `data`; register it as `name`.

    Returns the new model's ref (`<base>+adapter=<name>`) and the training figures. Resumable: re-running the same
    call continues from the last checkpoint (or returns at once when training had finished).
    """
    from inward import models
    from inward.store import ModelRecord
    from inward.training.config import TrainConfig
    from inward.training.lora import train_lora

    ref = ModelRef.parse(base)
    if ref.provider not in ("local", "hf") or ref.adapter is not None:
        raise UserError(f"local training needs a local base model without an adapter, got {base}")
    cfg: dict[str, Any] = {**plan, "seed": seed}
    if init_adapter is not None:
        cfg["init_adapter"] = str(
            adapter_resolver(store)(init_adapter) if not Path(init_adapter).exists() else init_adapter
        )
    config = TrainConfig(**cfg)
    out_dir = store.path.parent / "models" / name
    result = train_lora(
        models.resolve(ref), Path(data), out_dir, config, val_data=val_data, progress=progress
    )
    store.register_model(
        ModelRecord(
            name=name,
            base_ref=str(ref),
            kind="lora",
            path=result.adapter_dir,
            config=config.model_dump(mode="json"),
            provenance={**result.provenance, "data": str(data)},
        )
    )
    return {
        "ref": str(ref.with_adapter(name)),
        "name": name,
        "adapter_dir": result.adapter_dir,
        "n_train": result.n_train,
        "steps": result.steps,
        "train_time_s": round(result.train_time_s, 1),
        "examples_per_s": round(result.examples_per_s, 2),
        "val_loss_before": result.val_loss_before,
        "val_loss_after": result.val_loss_after,
        "final_train_loss": result.train_loss[-1] if result.train_loss else None,
        "resumed_from_step": result.resumed_from_step,
    }
