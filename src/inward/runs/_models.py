"""Which model a run or a table is about: a ref string, a `ModelId` or a backend, resolved to its identity."""

from __future__ import annotations

from typing import Any

from inward.backends.identity import ModelId, model_id

ModelLike = str | ModelId | Any  # Any: a Backend (anything with `ref` and `fingerprint()`)


def resolve_model(store: Any, model: ModelLike) -> ModelId:
    """The identity the store keys `model`'s behaviour by. A ref string is resolved without loading weights
    (adapter names through the store's trained models)."""
    if isinstance(model, ModelId):
        return model
    if isinstance(model, str):
        from inward.backends.registry import identify
        from inward.runs.adapters import adapter_resolver

        return identify(model, adapter_path=adapter_resolver(store))
    return model_id(model)
