"""inward's backends as an inspect_ai model API: `--model inward/<inward model ref>`.

    inspect eval inward/self_prediction --model inward/local/smollm2-135m -T tasks=animals_long -T limit=3

This is how a bundled local model reaches inspect, rather than through inspect's `hf` provider: the ref is
resolved by inward (`inward.models`: the bundled weights converted once under ~/.cache/inward/hf, no hub
download at run time), answers come from inward's own local backend (same chat template, greedy decoding and
dtype as `inward object`), so an inspect run and an inward run of the same model give the same answers, and any
other inward ref (`hf/<folder>`, `local/...+adapter=NAME` with a folder, `openai-compatible/...`) works too.

`-M` model args are the backend's options (e.g. `-M batch_size=8 -M device=cpu`); a process builds one backend
per ref and options, so the weights load once. Calls do not go through inward's store cache (inspect has its
own, `--cache`); to keep answers in the store, run `inward object` or import the log (`inward inspect import-log`).

inspect calls `generate` once per sample, concurrently; requests are served one batch at a time from a worker
thread (the local backend is not re-entrant), batching whatever requests with the same settings are waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    StopReason,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from inward.backends import base
from inward.errors import UserError

_STOP: dict[str, StopReason] = {"length": "max_tokens", "early": "stop", "stop": "stop", "error": "unknown"}


class InwardModelAPI(ModelAPI):
    """An inspect `ModelAPI` over `inward.backends.make_backend(model_name, **model_args)`."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        if model_name.startswith("inspect/"):
            raise UserError(
                "inward/inspect/... would call inspect from inspect; use the inspect model directly"
            )
        self.backend = _backend(model_name, model_args)
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[list[dict[str, str]], base.GenerateConfig, asyncio.Future[Any]]] = []

    def max_connections(self) -> int:
        return 32  # requests only queue here; the batch size is the backend's

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        if tools:
            raise UserError(f"inward/{self.model_name} does not call tools")
        messages = [
            {"role": m.role, "content": m.text} for m in input if m.role in ("system", "user", "assistant")
        ]
        cfg = base.GenerateConfig(
            temperature=config.temperature or 0.0,
            max_tokens=config.max_tokens or 64,
            seed=config.seed or 0,
        )
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, cfg, done))
        async with self._lock:  # one batch at a time; it takes every waiting request with the same config
            if not done.done():
                batch = [w for w in self._waiting if w[1] == cfg]
                self._waiting = [w for w in self._waiting if w[1] != cfg]
                try:
                    outs = await asyncio.to_thread(self.backend.generate, [w[0] for w in batch], cfg)
                except Exception as e:  # every request of the batch fails with it, none waits forever
                    for _, _, fut in batch:
                        fut.set_exception(e)
                else:
                    for (_, _, fut), gens in zip(batch, outs, strict=True):
                        fut.set_result(gens[0])
        g: base.Generation = await done
        out = ModelOutput.from_content(
            model=self.model_name, content=g.text, stop_reason=_STOP.get(g.finish_reason, "stop")
        )
        out.usage = ModelUsage(
            input_tokens=g.prompt_tokens,
            output_tokens=g.completion_tokens,
            total_tokens=g.prompt_tokens + g.completion_tokens,
        )
        return out


_BACKENDS: dict[str, Any] = {}


def _backend(ref: str, options: dict[str, Any]) -> Any:
    """One backend per (ref, options) in a process: inspect may build a model more than once per eval, and a
    local model's weights should load once."""
    from inward.backends import make_backend

    key = ref + repr(sorted(options.items()))
    if key not in _BACKENDS:
        _BACKENDS[key] = make_backend(ref, **options)
    return _BACKENDS[key]


@modelapi(name="inward")
def inward_api() -> type[ModelAPI]:
    return InwardModelAPI
