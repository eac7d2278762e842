"""One registry of backends: a `ModelRef` string in, a `Backend` out.

Providers are imported lazily so that a missing extra gives a one-line install hint instead of an ImportError.
New providers register with `@backend("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inward.backends.base import Backend
from inward.backends.identity import ModelId
from inward.errors import MissingExtraError, UserError
from inward.refs import ModelRef

Factory = Callable[..., Backend]
_FACTORIES: dict[str, Factory] = {}


def backend(*providers: str) -> Callable[[Factory], Factory]:
    """Register a factory `fn(ref, *, adapter_path=None, **options) -> Backend` for these providers."""

    def deco(fn: Factory) -> Factory:
        for provider in providers:
            _FACTORIES[provider] = fn
        return fn

    return deco


def make_backend(
    ref: str | ModelRef, *, adapter_path: Callable[[str], Path] | None = None, **options: Any
) -> Backend:
    """Build the backend for `ref`. `adapter_path` maps an adapter name (e.g. from the store) to a folder."""
    r = ModelRef.parse(ref)
    if r.provider not in _FACTORIES:
        raise UserError(f"no backend for provider {r.provider!r}")
    return _FACTORIES[r.provider](r, adapter_path=adapter_path, **options)


def _resolve_adapter(r: ModelRef, adapter_path: Callable[[str], Path] | None) -> Path | None:
    if r.adapter is None:
        return None
    p = Path(r.adapter).expanduser()
    if p.exists():
        from inward.runs.adapters import check_adapter_folder

        return check_adapter_folder(p)
    if adapter_path is not None:
        return adapter_path(r.adapter)
    raise UserError(f"adapter {r.adapter!r} is neither a folder nor a model registered in the store")


@backend("local", "hf")
def _local(r: ModelRef, *, adapter_path: Callable[[str], Path] | None = None, **options: Any) -> Backend:
    from inward import models

    # A bad adapter or model name fails here, before torch is imported or any base weights are installed.
    adapter = _resolve_adapter(r, adapter_path)
    if r.provider == "local":
        models.get(r.name)
    try:
        from inward.backends.local import LocalBackend
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingExtraError(f"the local backend ({e.name})", "local") from e

    path = models.resolve(r.base)
    return LocalBackend(path, adapter=adapter, ref=str(r), **options)


@backend("openai", "openai-compatible")
def _openai(r: ModelRef, **options: Any) -> Backend:
    options.pop("adapter_path", None)
    try:
        from inward.backends.openai_compat import OpenAICompatBackend
    except ImportError as e:  # pragma: no cover
        raise MissingExtraError(f"the OpenAI backend ({e.name})", "api") from e
    return OpenAICompatBackend(r, **_api_options(options))


@backend("vllm")
def _vllm(r: ModelRef, *, adapter_path: Callable[[str], Path] | None = None, **options: Any) -> Backend:
    adapter = _resolve_adapter(r, adapter_path)
    try:
        from inward.backends.vllm import make_vllm_backend
    except ImportError as e:  # pragma: no cover
        raise MissingExtraError(f"the vLLM backend ({e.name})", "api") from e
    return make_vllm_backend(r, adapter=adapter, **_api_options(options))


@backend("anthropic")
def _anthropic(r: ModelRef, **options: Any) -> Backend:
    options.pop("adapter_path", None)
    try:
        from inward.backends.anthropic_api import AnthropicBackend
    except ImportError as e:  # pragma: no cover
        raise MissingExtraError(f"the Anthropic backend ({e.name})", "api") from e
    return AnthropicBackend(r, **_api_options(options))


@backend("inspect")
def _inspect(r: ModelRef, **options: Any) -> Backend:
    options.pop("adapter_path", None)
    from inward.interop.backend import InspectBackend  # raises MissingExtraError without inspect_ai

    return InspectBackend(r, **_api_options(options))


def identify(ref: str | ModelRef, *, adapter_path: Callable[[str], Path] | None = None) -> ModelId:
    """The identity of `ref` as its backend would report it, without loading any weights: the store keys
    behaviour by it. A local model must be installed (an uninstalled one has no stored behaviour)."""
    from inward.backends.identity import ModelId, api_identity, default_server, identity_key, local_identity

    r = ModelRef.parse(ref)
    if r.provider in ("local", "hf"):
        from inward import models

        path = models.resolve(r.base, install=False)
        if not isinstance(path, Path):  # a hub id (INWARD_ALLOW_HUB): no local files to digest
            parts: dict[str, Any] = {"kind": "hub", "model": path, "adapter": r.adapter}
        else:
            parts = local_identity(path, _resolve_adapter(r, adapter_path))
    elif r.provider == "vllm":
        from inward.backends.vllm_config import model_folder, vllm_identity

        parts = vllm_identity(model_folder(r, install=False), r, _resolve_adapter(r, adapter_path))
    elif r.provider in _FACTORIES:
        parts = api_identity(r.provider, r.name, r.adapter, default_server(r.provider, r.base_url))
    else:
        raise UserError(f"no backend for provider {r.provider!r}")
    return ModelId(key=identity_key(parts), label=str(r))


_LOCAL_ONLY = ("device", "dtype", "batch_size", "threads")


def _api_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in _LOCAL_ONLY}
