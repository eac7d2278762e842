"""How an experiment reaches its models: backends, identities and training, behind one small seam.

    access = LocalModels(store, backend_options={"batch_size": 16})
    access.backend("local/qwen2.5-0.5b")        # loaded lazily; at most two kept in memory
    access.identify("local/qwen2.5-0.5b+adapter=demo-m1-self-3f9a2c")   # ModelId from the files on disk
    access.train(name=..., base=..., data=..., plan=..., seed=0, init_adapter=None, progress=True)

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


class ModelAccess(Protocol):
    def backend(self, ref: str) -> Backend:
        """A backend for `ref` (adapter names resolve through the store)."""
        ...

    def identify(self, ref: str) -> ModelId:
        """`ref`'s identity as its backend would report it, ideally without loading it."""
        ...

    def train(
        self,
        *,
        name: str,
        base: str,
        data: Path,
        plan: dict[str, Any],
        seed: int,
        init_adapter: str | None,
        progress: bool,
    ) -> dict[str, Any]:
        """Fine-tune `base` on chat JSONL `data` as adapter `name`; returns at least `ref`, `name`, `n_train`,
        `train_time_s`, `examples_per_s`, `final_train_loss` (see `inward.runs.adapters.train_and_register`)."""
        ...

    def release(self) -> None:
        """Free loaded backends (before training)."""
        ...


class LocalModels:
    """The default `ModelAccess`: `make_backend` with the experiment's local options, the registry's
    `identify` (installing a bundled model first, as loading it would), LoRA training into the store."""

    def __init__(self, store: Any, backend_options: dict[str, Any] | None = None, keep: int = 2) -> None:
        self.store = store
        self.options = dict(backend_options or {})
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
        opts = self.options if ModelRef.parse(ref).provider in ("local", "hf") else {}
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
        return identify(ref, adapter_path=adapter_resolver(self.store))

    def train(
        self,
        *,
        name: str,
        base: str,
        data: Path,
        plan: dict[str, Any],
        seed: int,
        init_adapter: str | None,
        progress: bool,
    ) -> dict[str, Any]:
        from inward.runs.adapters import train_and_register

        self.release()  # training needs the memory more than a warm inference model
        return train_and_register(
            self.store,
            name=name,
            base=base,
            data=data,
            plan=plan,
            seed=seed,
            init_adapter=init_adapter,
            progress=progress,
        )

    def release(self) -> None:
        self._backends.clear()
        gc.collect()
