"""`ServedLoraTrainer`: LoRA for a model that a server evaluates (``vllm/`` refs): trained here, served there.

    trainer = ServedLoraTrainer(LocalLoraTrainer(resolve_adapter=adapter_resolver(store)))
    m = trainer.fit(Path("m1-self.jsonl"), "vllm/smollm2-135m", TrainConfig(), name="m1-self",
                    out_dir=Path("models/m1-self"))
    m.ref    # "vllm/smollm2-135m+adapter=m1-self": the vLLM backend loads the adapter folder into its server

The base weights of a `vllm/` ref are a local or bundled model (`vllm_config.local_base`), so the adapter is
trained on them by the local trainer (``local/smollm2-135m``, or ``hf/PATH``; a starting adapter is kept) and
the trained model keeps the served provider and server, so that the pipeline evaluates it where it evaluates
its base. The adapter is registered in the store like any local one: ``local/...+adapter=NAME`` reaches the
same folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inward.refs import ModelRef
from inward.training.base import TrainedKind, TrainedModel
from inward.training.local import LocalLoraTrainer


class ServedLoraTrainer:
    kind: TrainedKind = "lora"

    def __init__(self, local: LocalLoraTrainer) -> None:
        self.local = local

    def fit(
        self,
        data: Path,
        base: str,
        config: Any = None,
        *,
        name: str,
        out_dir: Path,
        val_data: Path | None = None,
    ) -> TrainedModel:
        from inward.backends.vllm_config import local_base

        served = ModelRef.parse(base)
        model = self.local.fit(
            data, str(local_base(served)), config, name=name, out_dir=out_dir, val_data=val_data
        )
        return model.model_copy(update={"ref": str(served.base.with_adapter(name)), "base_ref": str(served)})
