"""Any inspect_ai model API as an inward `Backend`: the `inspect/<provider>/<model>` model ref.

    inward object -m inspect/mockllm/model -t animals_long --limit 5
    make_backend("inspect/google/gemini-1.5-pro", model_args={"location": "us"})

Every answer goes through inward's store and cache like any other backend (the runs layer wraps `generate` in
`CachedGenerator`); inspect's own cache is not used. Rows are keyed by `identity()` (provider and model, as
`inward.backends.registry.identify` computes from the ref string alone), the call cache by `fingerprint()`,
which adds the settings (model args, base URL without credentials, default generate config, inspect_ai
version). API keys never enter either: inspect reads them from its provider's environment variables, and
model args whose names look like credentials are refused here.

`distribution` uses the top log-probs the provider returns (OpenAI, Together, vLLM, ...); a provider that
returns none gives a `UserError` saying distributions are unsupported for that model (use sampling via
`inward object --samples N` instead). Offline, inspect's `mockllm` without scripted outputs would count its
tokens with tiktoken, whose vocabulary is downloaded on first use; this backend then gives mockllm its own
default answer text with the usage already set, so `inspect/mockllm/model` runs without network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from inward.backends.base import Distribution, GenerateConfig, Generation, Messages, Resolve, StopWhen
from inward.errors import UserError
from inward.interop._require import require_inspect
from inward.refs import ModelRef

_SECRET_WORDS = ("key", "token", "secret", "password", "credential")
# inspect's stop reasons as inward finish reasons ("length" = the token cap was reached)
_FINISH = {"max_tokens": "length", "model_length": "length", "stop": "stop", "content_filter": "stop"}


def _public_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Model args as the fingerprint records them: JSON-able values as they are, callables and objects by
    their qualified name (a scripted mock's function names its script)."""
    out: dict[str, Any] = {}
    for k, v in sorted(args.items()):
        if isinstance(v, str | int | float | bool) or v is None:
            out[k] = v
        else:
            out[k] = f"<{getattr(v, '__qualname__', type(v).__qualname__)}>"
    return out


def to_chat_messages(messages: Messages) -> list[Any]:
    """inward chat messages as inspect `ChatMessage`s."""
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


def generation_of(output: Any) -> Generation:
    """An inspect `ModelOutput` as an inward `Generation` (text, finish reason, tokens, top log-probs)."""
    usage = output.usage
    logprobs = None
    choice = output.choices[0] if output.choices else None
    if choice is not None and choice.logprobs is not None:
        logprobs = [
            {t.token: t.logprob for t in (lp.top_logprobs or [])} | {lp.token: lp.logprob}
            for lp in choice.logprobs.content
        ]
    return Generation(
        text=output.completion,
        finish_reason="error" if output.error else _FINISH.get(output.stop_reason, "stop"),
        completion_tokens=usage.output_tokens if usage is not None else 0,
        prompt_tokens=usage.input_tokens if usage is not None else 0,
        logprobs=logprobs,
    )


class InspectBackend:
    """An inspect model (`inspect_ai.model.get_model`) behind inward's `Backend` protocol.

    `model_args`: passed to the inspect provider (like `inspect eval -M`); `base_url`: its server;
    `max_connections`: concurrent requests (inspect's own limit applies too)."""

    def __init__(
        self,
        ref: str | ModelRef,
        *,
        model_args: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        max_connections: int = 8,
        **_ignored: Any,
    ) -> None:
        require_inspect()
        self.model_ref = ModelRef.parse(ref)
        if self.model_ref.provider != "inspect":
            raise UserError(f"{ref} is not an inspect/<provider>/<model> ref")
        self.ref = str(self.model_ref)
        self.inspect_model = self.model_ref.name  # "<provider>/<model>" as inspect names it
        self.provider = self.inspect_model.partition("/")[0]
        args = dict(model_args or {})
        secret = [k for k in args if any(w in k.lower() for w in _SECRET_WORDS)]
        if secret:
            raise UserError(
                f"model args {', '.join(secret)} look like credentials; set the provider's API-key "
                "environment variable instead (inward never stores keys)"
            )
        if self.provider == "mockllm" and "custom_outputs" not in args:
            args["custom_outputs"] = _offline_mock_output
        self.model_args = args
        self.base_url = base_url
        self.max_connections = max_connections
        self._model: Any = None
        from inward.backends._http_common import LoopThread

        self._loop = LoopThread(f"inward-inspect-{self.inspect_model}")

    # -- the inspect model, built on first use (a provider's SDK may be missing: one line, not a traceback)
    @property
    def model(self) -> Any:
        if self._model is None:
            from inspect_ai.model import get_model

            try:
                self._model = get_model(
                    self.inspect_model, base_url=self.base_url, memoize=False, **self.model_args
                )
            except Exception as e:  # an unknown provider, a missing SDK or key: inspect says which
                raise UserError(f"inspect cannot load {self.inspect_model}: {e}".splitlines()[0]) from e
        return self._model

    def _config(self, config: GenerateConfig, seed: int, top_logprobs: int) -> Any:
        from inspect_ai.model import GenerateConfig as InspectConfig

        return InspectConfig(
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            seed=seed,
            logprobs=True if top_logprobs > 0 else None,
            top_logprobs=top_logprobs if top_logprobs > 0 else None,
        )

    async def _one(
        self, messages: Messages, config: GenerateConfig, gate: asyncio.Semaphore
    ) -> list[Generation]:
        # n samples as n requests with seeds seed, seed+1, ... (not every provider takes num_choices)
        chat = to_chat_messages(messages)
        out = []
        for i in range(config.n):
            async with gate:
                output = await self.model.generate(
                    chat, config=self._config(config, config.seed + i, config.top_logprobs)
                )
            out.append(generation_of(output))
        return out

    def _run(self, coros: Callable[[asyncio.Semaphore], Sequence[Any]]) -> list[Any]:
        async def main() -> list[Any]:
            gate = asyncio.Semaphore(self.max_connections)
            return list(await asyncio.gather(*coros(gate)))

        return self._loop.run(main())

    # -- the Backend contract ------------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
    ) -> list[list[Generation]]:
        """`config.n` answers per prompt, in input order; `stop_when` is ignored (an API answer cannot be
        stopped by a predicate: whole answers come back, finish reason as the provider says)."""
        self.model  # noqa: B018 - load (and fail with one line) before any request is sent
        return self._run(lambda gate: [self._one(list(p), config, gate) for p in prompts])

    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        """From the greedy answer's top log-probs (inward's `logprob_distribution`); a UserError when the
        provider returns no log-probs."""
        from inward.backends.openai_compat import MAX_TOP_LOGPROBS, TokenLogprob, logprob_distribution

        if len(resolve) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(resolve)} resolve functions")
        k = max(1, min(max_branches, MAX_TOP_LOGPROBS))
        config = GenerateConfig(temperature=0.0, max_tokens=max_tokens, top_logprobs=k)
        self.model  # noqa: B018

        async def one(messages: Messages, gate: asyncio.Semaphore) -> Any:
            async with gate:
                return await self.model.generate(
                    to_chat_messages(messages), config=self._config(config, 0, k)
                )

        outputs = self._run(lambda gate: [one(list(p), gate) for p in prompts])
        dists = []
        for output, res in zip(outputs, resolve, strict=True):
            choice = output.choices[0] if output.choices else None
            if choice is None or choice.logprobs is None:
                raise UserError(
                    f"{self.ref} returned no log-probs, so exact distributions are unsupported through "
                    "inspect for this model; use sampled distributions (--samples N at temperature 1)"
                )
            tokens = [
                TokenLogprob(
                    token=_bytes(lp.token, lp.bytes),
                    logprob=lp.logprob,
                    top=tuple((_bytes(t.token, t.bytes), t.logprob) for t in (lp.top_logprobs or [])),
                )
                for lp in choice.logprobs.content
            ]
            g = generation_of(output)
            dists.append(logprob_distribution(tokens, g.finish_reason, res, prompt_tokens=g.prompt_tokens))
        return dists

    def identity(self) -> dict[str, Any]:
        """What stored rows are keyed by: provider and model (as `identify` computes from the ref)."""
        from inward.backends.identity import api_identity

        return api_identity("inspect", self.inspect_model, None, None)

    def fingerprint(self) -> dict[str, Any]:
        """The call cache's key: provider, model and the settings that change answers; never a key."""
        from importlib.metadata import version

        from inward.backends._http_common import public_url

        return {
            "backend": type(self).__name__,
            "provider": "inspect",
            "inspect_provider": self.provider,
            "model": self.inspect_model,
            "model_args": _public_args(self.model_args),
            "base_url": public_url(self.base_url),
            "inspect_ai": version("inspect_ai"),
        }

    def close(self) -> None:
        self._loop.close()


def _bytes(token: str, raw: list[int] | None) -> bytes:
    return bytes(raw) if raw is not None else token.encode("utf-8")


def _offline_mock_output(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> Any:
    """mockllm's default answer with its usage set, so mockllm does not reach for tiktoken's vocabulary."""
    from inspect_ai.model import ModelOutput, ModelUsage
    from inspect_ai.model._providers.mockllm import MockLLM

    text = MockLLM.default_output
    words = sum(len(m.text.split()) for m in input)
    out = ModelOutput.from_content(model="mockllm", content=text)
    out.usage = ModelUsage(
        input_tokens=words, output_tokens=len(text.split()), total_tokens=words + len(text.split())
    )
    return out


__all__ = ["InspectBackend", "generation_of", "to_chat_messages"]
