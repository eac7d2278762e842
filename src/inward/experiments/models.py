"""How an experiment reaches its models: backends, identities and training, behind one small seam.

    access = LocalModels(store, backend_options={"batch_size": 16})
    access.backend("local/qwen2.5-0.5b")        # loaded lazily; at most two kept in memory
    access.identify("local/qwen2.5-0.5b+adapter=demo-m1-self-3f9a2c")   # ModelId from the files on disk
    access.trainer("local/qwen2.5-0.5b").fit(...)   # a `Trainer`: local LoRA, OpenAI fine-tuning for openai/,
                                                    # Together LoRA jobs for openai-compatible/...@api.together.xyz
    access.parameters("local/qwen2.5-0.5b")          # 494032768, from the weights' headers

`Pipeline` uses `LocalModels` unless given another `ModelAccess` (tests script one whose answers and training
they choose, so every headline number can be computed by hand).
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from inward.backends.base import Backend
from inward.backends.identity import ModelId
from inward.refs import ModelRef
from inward.training.base import Trainer


def training_config(kind: str, plan: Any, seed: int) -> Any:
    """An experiment file's `Training` plan as the config of a trainer of `kind` (lora, openai-ft, together-ft).
    OpenAI fine-tuning takes epochs, batch size and seed; its learning rate is the provider's multiplier
    (OpenAIFTConfig's default, the paper's), since a LoRA learning rate means nothing there. Together takes
    epochs, lr, batch size, rank and alpha where the file chose them (see below)."""
    from pydantic import ValidationError

    from inward.errors import UserError

    p = plan.model_dump() if hasattr(plan, "model_dump") else dict(plan)
    try:
        if kind == "lora":
            from inward.training.config import TrainConfig

            return TrainConfig(**p, seed=seed)
        if kind == "openai-ft":
            from inward.training.openai_ft import OpenAIFTConfig

            return OpenAIFTConfig(n_epochs=p["epochs"], batch_size=p["batch_size"], seed=seed)
        if kind == "together-ft":
            from inward.training.together_ft import TogetherFTConfig

            # Settings the file chose win (even when equal to a default); the rest stay the paper's hosted
            # recipe, not the plan's defaults, which are the local trainer's (an LR of 1e-3 for a 0.5B model on a
            # CPU, not 2e-5 for 8-70B). Re-validating a config keeps what was chosen (`exclude_unset`).
            given = set(plan.model_fields_set) if hasattr(plan, "model_fields_set") else set(p)
            names = {
                "epochs": "n_epochs",
                "lr": "learning_rate",
                "batch_size": "batch_size",
                "rank": "lora_r",
            }
            kw = {names[k]: p[k] for k in names if k in given}
            if "alpha" in given:
                kw["lora_alpha"] = int(p["alpha"])
            return TogetherFTConfig(**kw, seed=seed)
    except ValidationError as e:
        err = e.errors()[0]
        raise UserError(f"bad training setting {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    raise UserError(f"no training config for trainer kind {kind!r}")


def count_parameters(folder: Path) -> int | None:
    """Parameters in a model folder's safetensors files, from their headers (no tensor is read)."""
    import json
    import math
    import struct

    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for f in files:
        with f.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")
    return total


class ModelAccess(Protocol):
    def backend(self, ref: str) -> Backend:
        """A backend for `ref` (adapter names resolve through the store)."""
        ...

    def identify(self, ref: str) -> ModelId:
        """`ref`'s identity as its backend would report it, ideally without loading it."""
        ...

    def trainer(self, base: str, *, progress: bool = True) -> Trainer:
        """The `Trainer` that fine-tunes `base` (which may carry an adapter to start from)."""
        ...

    def train_config(self, kind: str, plan: Any, seed: int) -> Any:
        """The trainer's config for an experiment file's `Training` plan and a seed."""
        ...

    def parameters(self, ref: str) -> int | None:
        """Parameter count of `ref`'s base weights, or None when unknown (API models)."""
        ...

    def release(self) -> None:
        """Free loaded backends (before training)."""
        ...


class LocalModels:
    """The default `ModelAccess`: `make_backend` with the experiment's local options, the registry's
    `identify` (installing a bundled model first, as loading it would), LoRA training into the store."""

    def __init__(self, store: Any, backend_options: dict[str, Any] | None = None, keep: int = 2) -> None:
        """`backend_options`: the local backend's, and under "vllm" the `VLLMOptions` of vllm/ models."""
        self.store = store
        self.options = dict(backend_options or {})
        self.vllm = self.options.pop("vllm", None)
        self.keep = keep
        self._backends: OrderedDict[str, Backend] = OrderedDict()

    def backend(self, ref: str) -> Backend:
        from inward.backends import make_backend
        from inward.runs.adapters import adapter_resolver

        if ref in self._backends:
            self._backends.move_to_end(ref)
            return self._backends[ref]
        while len(self._backends) >= self.keep:
            self._backends.popitem(last=False)
        provider = ModelRef.parse(ref).provider
        opts = self.options if provider in ("local", "hf") else {}
        if provider == "vllm":
            opts = {"server_options": self.vllm}
        b = make_backend(ref, adapter_path=adapter_resolver(self.store), **opts)
        self._backends[ref] = b
        return b

    def identify(self, ref: str) -> ModelId:
        from inward.backends.registry import identify
        from inward.runs.adapters import adapter_resolver

        r = ModelRef.parse(ref)
        if (
            r.provider == "local"
        ):  # identities are digests of installed weights: install first, as a run would
            from inward import models

            models.resolve(r.base)
        if r.provider == "vllm":  # the same for a served bundled model
            from inward.backends.vllm_config import model_folder

            model_folder(r)
        return identify(ref, adapter_path=adapter_resolver(self.store))

    def trainer(self, base: str, *, progress: bool = True) -> Trainer:
        from inward.runs.adapters import adapter_resolver

        provider = ModelRef.parse(base).provider
        if provider in ("local", "hf"):
            from inward.training.local import LocalLoraTrainer

            return LocalLoraTrainer(resolve_adapter=adapter_resolver(self.store), progress=progress)
        if provider == "vllm":  # trained here on its local base, evaluated on the server with the adapter
            from inward.training.local import LocalLoraTrainer
            from inward.training.served import ServedLoraTrainer

            return ServedLoraTrainer(
                LocalLoraTrainer(resolve_adapter=adapter_resolver(self.store), progress=progress)
            )
        if provider == "openai":
            from inward.training.openai_ft import OpenAIFineTuner

            return OpenAIFineTuner()
        from inward.training.together_ft import TogetherFineTuner, is_together

        if is_together(base):
            return TogetherFineTuner()
        from inward.errors import UserError

        raise UserError(
            f"no trainer for {base}: experiments train local/, hf/, openai/ and Together-hosted "
            "openai-compatible/MODEL@https://api.together.xyz/v1 models"
        )

    def train_config(self, kind: str, plan: Any, seed: int) -> Any:
        return training_config(kind, plan, seed)

    def parameters(self, ref: str) -> int | None:
        r = ModelRef.parse(ref)
        if r.provider == "vllm":
            from inward.backends.vllm_config import model_folder

            served = model_folder(r)
            return count_parameters(served) if served is not None else None
        if r.provider not in ("local", "hf"):
            return None
        from inward import models

        folder = models.resolve(r.base)
        return count_parameters(folder) if isinstance(folder, Path) else None

    def release(self) -> None:
        self._backends.clear()
        gc.collect()
