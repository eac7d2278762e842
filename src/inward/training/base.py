"""The `Trainer` contract and the record of a trained model.

A trainer turns a chat JSONL file and a base `ModelRef` string into a `TrainedModel`: a new ref string
the backends understand (``local/smollm2-135m+adapter=m1-self`` or
``openai/ft:gpt-4o-mini-2024-07-18:org::abc123``) plus the paths, settings, metrics and provenance needed
to register it in the store.

    trainer: Trainer = LocalLoraTrainer()            # or OpenAIFineTuner()
    model = trainer.fit(Path("m1-self.jsonl"), "local/smollm2-135m", TrainConfig(), name="m1-self",
                        out_dir=Path("runs/m1-self"))
    store.register_model(ModelRecord(**model.record_fields()))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

TrainedKind = Literal["lora", "openai-ft", "together-ft"]


class TrainedModel(BaseModel):
    """A fine-tuned model: how to reach it (`ref`) and how it was made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str = Field(description="ModelRef string of the trained model.")
    name: str = Field(description="Name the model is registered under.")
    base_ref: str = Field(description="ModelRef string of the model it was trained from.")
    kind: TrainedKind
    path: str | None = Field(default=None, description="Local adapter folder (local LoRA).")
    remote_id: str | None = Field(
        default=None, description="Provider model id (OpenAI fine_tuned_model, Together model_output_name)."
    )
    out_dir: str = Field(description="Folder holding the run's files (train.json, checkpoints, job state).")
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)

    def record_fields(self) -> dict[str, Any]:
        """Keyword arguments for `inward.store.ModelRecord` (metrics and out_dir travel in provenance)."""
        return {
            "name": self.name,
            "base_ref": self.base_ref,
            "kind": self.kind,
            "path": self.path,
            "remote_id": self.remote_id,
            "config": self.config,
            "provenance": {
                **self.provenance,
                "ref": self.ref,
                "out_dir": self.out_dir,
                "metrics": self.metrics,
            },
        }


@runtime_checkable
class Trainer(Protocol):
    """Fine-tunes a base model on a chat JSONL file (`inward.training.chat_data` format)."""

    kind: TrainedKind

    def fit(self, data: Path, base: str, config: Any, *, name: str, out_dir: Path) -> TrainedModel:
        """Train (or resume, or return the finished result of) the run in `out_dir`."""
        ...
