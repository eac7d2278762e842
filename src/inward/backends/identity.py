"""A model's identity: what its stored behaviour is keyed by, so that a number traces to the exact weights.

    model_id(backend)                       # ModelId(key="3f9a…", label="local/qwen2.5-0.5b+adapter=m1-self")
    identify("local/qwen2.5-0.5b+adapter=m1-self", adapter_path=resolver)   # the same, without loading weights

The *key* is a digest of content: the base weights' digest plus the adapter weights' digest for local models,
the provider, model id, adapter name and server for API models. The *label* is the human ref string, kept beside
the key for display only. Rows stored under one key are never read for another, so an adapter retrained under a
reused name (different weights, same label) gets new answers, never the old adapter's.

This module imports neither torch nor transformers: identities are computed from files on disk, cheaply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "inward-model.json"  # written by `inward.models` next to converted weights


@dataclass(frozen=True)
class ModelId:
    """`key`: content digest (16 hex digits) the store keys rows by; `label`: the ref string, for people."""

    key: str
    label: str

    def __str__(self) -> str:
        return self.label


def identity_key(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(dict(parts), sort_keys=True, default=str).encode()).hexdigest()[:16]


def weights_sha(folder: Path) -> str:
    """The source sha256 from the `inward-model.json` marker; else a hash of config.json and each weight
    file's name, size and modification time (so a rewritten file gives a new identity, never a stale one)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        sha = marker.get("source_sha256") or marker.get("sha256")
        if sha:
            return f"{sha}:{marker.get('dtype', '?')}"
    except (OSError, ValueError):
        pass
    h = hashlib.sha256((folder / "config.json").read_bytes())
    for f in sorted(folder.glob("*.safetensors*")) + sorted(folder.glob("*.bin")):
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def folder_sha(folder: Path) -> str:
    """Hash of an adapter folder's config and weights (adapters are a few MB)."""
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file() and (f.suffix in {".json", ".safetensors", ".bin"}):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def local_identity(path: Path, adapter: Path | None) -> dict[str, Any]:
    """Identity parts of local weights (+ LoRA adapter). The folder paths are not part of it: the same weights
    converted on another machine are the same model."""
    return {
        "kind": "weights",
        "weights": weights_sha(path),
        "adapter": folder_sha(adapter) if adapter is not None else None,
    }


def api_identity(provider: str, model: str, adapter: str | None, base_url: str | None) -> dict[str, Any]:
    """Identity parts of a served model: provider, model id, adapter name and server (credentials stripped)."""
    from inward.backends._http_common import public_url

    return {
        "kind": "api",
        "provider": provider,
        "model": model,
        "adapter": adapter,
        "base_url": public_url(base_url),
    }


_DEFAULT_SERVERS = {
    "openai": ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "anthropic": ("", "https://api.anthropic.com"),  # as `AnthropicBackend.base_url`: no env var
}


def default_server(provider: str, base_url: str | None) -> str | None:
    """The server a ref without `@URL` reaches, as its backend resolves it (env var, else the public API)."""
    if base_url or provider not in _DEFAULT_SERVERS:
        return base_url
    env, url = _DEFAULT_SERVERS[provider]
    import os

    return (os.environ.get(env) if env else None) or url


def model_id(backend: Any) -> ModelId:
    """The identity of a backend: its `identity()` parts when it has them, else its whole `fingerprint()`."""
    get = getattr(backend, "identity", None)
    parts = get() if callable(get) else backend.fingerprint()
    return ModelId(key=identity_key(parts), label=str(backend.ref))


__all__ = [
    "ModelId",
    "api_identity",
    "folder_sha",
    "identity_key",
    "local_identity",
    "model_id",
    "weights_sha",
]
