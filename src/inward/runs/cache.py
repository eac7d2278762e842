"""The store as a cache in front of any backend: a repeated request costs nothing.

The key of a call is the hash of (model identity, messages, decoding config, stop rule). The model identity is
the backend's fingerprint, so a retrained adapter with a reused name does not hit stale answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from inward.backends.base import Backend, GenerateConfig, Generation, Messages, StopWhen


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class CachedGenerator:
    """Wraps `backend.generate` with the store's `calls` table."""

    def __init__(self, backend: Backend, store: Any) -> None:
        self.backend = backend
        self.store = store
        self.model_id = _digest(backend.fingerprint())[:16]
        self.hits = 0
        self.misses = 0

    def key(self, messages: Messages, config: GenerateConfig, stop_key: str | None) -> str:
        return _digest([self.model_id, messages, asdict(config.normalised()), stop_key])

    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
        stop_key: str | None = None,
    ) -> list[list[Generation]]:
        """`stop_key` names the stop rule (e.g. the sorted property names); it is part of the cache key."""
        from inward.store import CallRow

        keys = [self.key(m, config, stop_key) for m in prompts]
        cached = self.store.get_calls(keys)
        todo = [i for i, k in enumerate(keys) if k not in cached]
        self.hits += len(prompts) - len(todo)
        self.misses += len(todo)
        fresh: dict[str, list[Generation]] = {}
        if todo:
            out = self.backend.generate(
                [prompts[i] for i in todo], config, [stop_when[i] for i in todo] if stop_when else None
            )
            rows = []
            for i, gens in zip(todo, out, strict=True):
                fresh[keys[i]] = gens
                rows.append(
                    CallRow(
                        key=keys[i],
                        model=str(self.backend.ref),
                        request={"messages": prompts[i], "config": asdict(config), "stop": stop_key},
                        response={"generations": [asdict(g) for g in gens]},
                        prompt_tokens=sum(g.prompt_tokens for g in gens),
                        completion_tokens=sum(g.completion_tokens for g in gens),
                    )
                )
            self.store.put_calls(rows)
        result = []
        for k in keys:
            if k in fresh:
                result.append(fresh[k])
            else:
                result.append([Generation(**g) for g in cached[k]["response"]["generations"]])
        return result
