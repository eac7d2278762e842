"""`HttpBackend`: the synchronous `Backend` contract on top of an async SDK client.

A provider subclass supplies the client, one prompt's request (`_generate_one`), the request body
(`_payload`) and how to read its SDK's errors (`_classify`, `_reject`); this class adds bounded concurrency,
retries, the request budget, usage accounting, input-order results and sampling-based distributions:

    with OpenAICompatBackend("openai-compatible/smollm2@http://127.0.0.1:8080/v1") as backend:
        gens = backend.generate(prompts, GenerateConfig(max_tokens=8))
        print(backend.usage.model_dump())
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ClassVar, TypeVar

from inward.backends._http_common import (
    LoopThread,
    OnError,
    RetriesExhausted,
    RetryPolicy,
    Usage,
    Verdict,
    call_with_retries,
    gather_or_cancel,
    public_url,
    redact,
)
from inward.backends.base import Distribution, GenerateConfig, Generation, Messages, Resolve, StopWhen
from inward.errors import UserError
from inward.refs import ModelRef

T = TypeVar("T")
B = TypeVar("B", bound="HttpBackend")


class Secret:
    """An API key that never shows up in a repr, a str() or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class RequestRejected(UserError):
    """The server refused a request for a reason retrying cannot fix (bad parameter, auth, unknown model)."""

    def __init__(self, message: str, status: int, server_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


def distribution_from_samples(
    gens: Sequence[Generation], resolve: Resolve, extra: dict[str, Any]
) -> Distribution:
    """Empirical distribution of resolved values. Truncated samples that do not resolve are not covered."""
    counts: dict[str, int] = {}
    covered = 0
    for g in gens:
        finished = g.finish_reason != "length"
        value = resolve(g.text, finished)
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
        if value is not None or finished:
            covered += 1
    n = max(len(gens), 1)
    return Distribution(
        probs={v: c / n for v, c in sorted(counts.items())},
        covered=covered / n,
        forward_tokens=sum(g.prompt_tokens + g.completion_tokens for g in gens),
        method="sampled",
        n_samples=len(gens),
        extra=extra,
    )


class HttpBackend:
    """Shared body of the HTTP backends; see `OpenAICompatBackend` and `AnthropicBackend`."""

    providers: ClassVar[tuple[str, ...]]
    sdk_name: str = ""  # "openai 1.2.3": set by the provider once its SDK is imported

    def __init__(
        self,
        ref: ModelRef | str,
        *,
        key: Secret,
        concurrency: int,
        max_retries: int,
        timeout: float,
        request_budget: int | None,
        price_per_mtok: tuple[float, float] | None,
        on_error: OnError,
        fallback_samples: int,
        backoff: tuple[float, float],
        http_client: Any,
    ) -> None:
        self.model_ref = ModelRef.parse(ref)
        if self.model_ref.provider not in self.providers:
            raise UserError(f"{type(self).__name__} serves {', '.join(self.providers)} refs, not {ref}")
        if concurrency < 1 or max_retries < 0 or timeout <= 0 or fallback_samples < 1:
            raise UserError("concurrency and fallback_samples must be >= 1, max_retries >= 0, timeout > 0")
        if request_budget is not None and request_budget < 1:
            raise UserError(f"request_budget must be a positive number of requests, not {request_budget}")
        if on_error not in ("raise", "mark"):
            raise UserError(f"on_error must be 'raise' or 'mark', not {on_error!r}")
        self.ref = str(self.model_ref)
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.request_budget = request_budget
        self.price_per_mtok = price_per_mtok
        self.on_error: OnError = on_error
        self.fallback_samples = fallback_samples
        self.retry_policy = RetryPolicy(max_retries=max_retries, base_delay=backoff[0], max_delay=backoff[1])
        self.usage = Usage(cost_usd=0.0 if price_per_mtok else None)
        self._key = key
        self._http_client = http_client
        self._client: Any = None
        self._limiter: asyncio.Semaphore | None = None
        self._rng = random.Random()
        self._loop = LoopThread(f"inward-{self.model_ref.provider}")
        weakref.finalize(self, self._loop.close)

    # ---- what a provider implements --------------------------------------------------------------------
    def _make_client(self) -> Any:
        raise NotImplementedError

    def _classify(self, exc: BaseException) -> Verdict | None:
        raise NotImplementedError

    def _reject(self, exc: BaseException) -> RequestRejected | None:
        """A `RequestRejected` for a non-retryable SDK error (with a one-line hint), else None."""
        raise NotImplementedError

    def _payload(self, messages: Messages, config: GenerateConfig) -> dict[str, Any]:
        raise NotImplementedError

    async def _generate_one(self, messages: Messages, config: GenerateConfig) -> list[Generation]:
        raise NotImplementedError

    def _fingerprint_extra(self) -> dict[str, Any]:
        return {}

    @property
    def base_url(self) -> str | None:
        return self.model_ref.base_url

    # ---- the Backend contract --------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
    ) -> list[list[Generation]]:
        """One list of `config.n` answers per prompt, in input order. `stop_when` is ignored: an API answer
        cannot be stopped by a predicate, so full answers come back with the API's finish_reason."""

        def failed(exc: RetriesExhausted) -> list[Generation]:
            return [Generation(text="", finish_reason="error") for _ in range(config.n)]

        coros = [self._guarded(self._generate_one(list(p), config), failed) for p in prompts]
        return self._run(gather_or_cancel(coros))

    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        """Best available distribution per prompt (see the provider's `_distribution_one`)."""
        if len(resolve) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(resolve)} resolve functions")

        def failed(exc: RetriesExhausted) -> Distribution:
            return Distribution(probs={}, covered=0.0, method="sampled", extra={"error": exc.reason})

        coros = [
            self._guarded(self._distribution_one(list(p), r, max_branches, max_tokens), failed)
            for p, r in zip(prompts, resolve, strict=True)
        ]
        return self._run(gather_or_cancel(coros))

    def identity(self) -> dict[str, Any]:
        """What the store keys this model's behaviour by: provider, model id, adapter name, server."""
        from inward.backends.identity import api_identity

        r = self.model_ref
        return api_identity(r.provider, r.name, r.adapter, self.base_url)

    def fingerprint(self) -> dict[str, Any]:
        """Identifies the served model: provider, model (or adapter) name, base URL (no credentials), SDK."""
        fp: dict[str, Any] = {
            "backend": type(self).__name__,
            "provider": self.model_ref.provider,
            "model": self.model_ref.name,
            "adapter": self.model_ref.adapter,
            "base_url": public_url(self.base_url),
            "sdk": self.sdk_name,
        }
        fp.update(self._fingerprint_extra())
        return fp

    def request_payload(self, prompt: Messages, config: GenerateConfig) -> dict[str, Any]:
        """The JSON body sent for `prompt` (for cache keys and logs); it never holds the API key."""
        return self._payload(list(prompt), config)

    def reset_usage(self) -> Usage:
        """Start counting afresh (e.g. per run); returns what was counted so far. Resets the budget too."""
        old, self.usage = self.usage, Usage(cost_usd=0.0 if self.price_per_mtok else None)
        return old

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):  # best effort: the loop goes away anyway
                self._loop.run(client.close())
        self._loop.close()

    def __enter__(self: B) -> B:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ref!r}, concurrency={self.concurrency})"

    # ---- shared machinery ------------------------------------------------------------------------------
    async def _distribution_one(
        self, messages: Messages, resolve: Resolve, max_branches: int, max_tokens: int
    ) -> Distribution:
        return await self._sampled_distribution(messages, resolve, max_tokens, "no logprobs in this API")

    async def _sampled_distribution(
        self, messages: Messages, resolve: Resolve, max_tokens: int, why: str
    ) -> Distribution:
        config = GenerateConfig(temperature=1.0, max_tokens=max_tokens, n=self.fallback_samples, seed=0)
        gens = await self._generate_one(messages, config)
        return distribution_from_samples(gens, resolve, {"fallback": f"sampled: {why}"})

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    async def _call(self, send: Callable[[], Awaitable[T]]) -> T:
        """One request through retries, the budget and the concurrency limit."""
        if self._client is None:
            self._client = self._make_client()
            self._limiter = asyncio.Semaphore(self.concurrency)
        assert self._limiter is not None
        try:
            return await call_with_retries(
                send,
                classify=self._classify,
                policy=self.retry_policy,
                usage=self.usage,
                budget=self.request_budget,
                limiter=self._limiter,
                rng=self._rng,
                secrets=[self._key.reveal()],
            )
        except (UserError, RetriesExhausted, asyncio.CancelledError):
            raise
        except Exception as exc:
            rejected = self._reject(exc)
            if rejected is None:
                raise
            raise rejected from None  # drop the SDK exception: its request object carries the auth header

    async def _guarded(self, coro: Coroutine[Any, Any, T], failed: Callable[[RetriesExhausted], T]) -> T:
        try:
            return await coro
        except RetriesExhausted as exc:
            if self.on_error == "mark":
                return failed(exc)
            where = public_url(self.base_url) or self.model_ref.provider
            raise UserError(
                f"{self.ref}: a request failed {exc.attempts} times ({exc.reason}: {exc.detail}); "
                f"check that {where} is reachable and retry, "
                "or pass on_error='mark' to keep going"
            ) from None

    def _redact(self, text: str) -> str:
        return redact(text, [self._key.reveal()])
