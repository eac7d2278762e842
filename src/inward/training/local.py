"""`LocalLoraTrainer`: the `Trainer` for local models (``local/NAME`` or ``hf/PATH`` refs) via `train_lora`.

    trainer = LocalLoraTrainer()
    m = trainer.fit(Path("m1-self.jsonl"), "local/smollm2-135m", TrainConfig(lr=1e-3), name="m1-self",
                    out_dir=Path("runs/m1-self"))
    m.ref    # "local/smollm2-135m+adapter=m1-self"; m.path is the adapter folder

A base that already carries an adapter (``local/smollm2-135m+adapter=m1-self``) is trained further from that
adapter, so the result is again one adapter on the plain base (what the behaviour-change experiment needs:
M1 → MC). Adapter names are turned into folders by `resolve_adapter` (the store's registry; by default a name
must be a path).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inward.errors import UserError
from inward.refs import ModelRef
from inward.training.base import TrainedKind, TrainedModel
from inward.training.config import TrainConfig


def _adapter_as_path(adapter: str) -> Path:
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise UserError(f"adapter {adapter!r} is not a folder; pass the adapter's path or a registered name")
    return path.resolve()


def _resolve_base(ref: ModelRef) -> Path:
    from inward.models import resolve

    folder = resolve(ref.base)
    if not isinstance(folder, Path):
        raise UserError(
            f"{ref.base}: local training needs the weights in a local folder, not hub id {folder!r}"
        )
    return folder


class LocalLoraTrainer:
    kind: TrainedKind = "lora"

    def __init__(
        self,
        *,
        resolve_base: Callable[[ModelRef], Path] = _resolve_base,
        resolve_adapter: Callable[[str], Path] = _adapter_as_path,
        progress: bool = True,
    ) -> None:
        self._resolve_base = resolve_base
        self._resolve_adapter = resolve_adapter
        self._progress = progress

    def fit(
        self,
        data: Path,
        base: str,
        config: TrainConfig | None = None,
        *,
        name: str,
        out_dir: Path,
        val_data: Path | None = None,
    ) -> TrainedModel:
        from inward.training.lora import train_lora

        ref = ModelRef.parse(base)
        if ref.provider not in ("local", "hf"):
            raise UserError(f"{base} is not a local model: local LoRA training needs local/NAME or hf/PATH")
        if not name or "+" in name:
            raise UserError(f"bad model name {name!r}: use a non-empty name without '+'")
        config = config or TrainConfig()
        if ref.adapter:
            config = config.model_copy(update={"init_adapter": str(self._resolve_adapter(ref.adapter))})
        result = train_lora(
            self._resolve_base(ref), data, out_dir, config, val_data=val_data, progress=self._progress
        )
        metrics = result.model_dump(
            include={
                "steps",
                "n_train",
                "n_val",
                "n_truncated",
                "train_loss",
                "val_loss_before",
                "val_loss_after",
                "wall_time_s",
                "train_time_s",
                "examples_per_s",
            }
        )
        return TrainedModel(
            ref=str(ref.base.with_adapter(name)),
            name=name,
            base_ref=str(ref),
            kind=self.kind,
            path=result.adapter_dir,
            out_dir=result.out_dir,
            config=result.config.model_dump(mode="json"),
            metrics=metrics,
            provenance={
                **result.provenance,
                "base_path": result.base_path,
                "run_digest": result.run_digest,
                "data": str(data),
            },
        )
