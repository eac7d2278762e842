"""Machinery shared by the HTTP backends (`openai_compat`, `anthropic_api`).

Retries with exponential backoff and jitter (honouring Retry-After), a per-run request budget, usage and
cost accounting, bounded concurrency, and a private event loop so that the synchronous `Backend` methods can
drive the async SDK clients from any thread (also from inside a running loop, e.g. a notebook):

    class MyBackend(HttpBackend):
        async def _generate_one(self, messages, config): ...   # one prompt -> config.n Generations
        ...
    backend.generate(prompts, config)   # bounded concurrency, retries, budget, in input order
    backend.usage.model_dump()          # requests, retries by reason, tokens, cost

Counting is exact because the SDKs' own retries are switched off (``max_retries=0`` on their clients): every
HTTP request goes through `call_with_retries`, which counts it before it is sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from inward.errors import UserError

log = logging.getLogger("inward.backends.http")
T = TypeVar("T")
OnError = Literal["raise", "mark"]

# Reasons a failed request is retried (keys of `Usage.retries`).
RETRY_REASONS = ("rate_limit", "overloaded", "server_error", "timeout", "connection", "invalid_response")


class Usage(BaseModel):
    """What a backend spent. `requests` counts every HTTP request sent, retries included, so
    ``requests == succeeded + sum(retries.values()) + failed`` always holds."""

    requests: int = 0
    """HTTP requests sent (what `request_budget` limits)."""
    succeeded: int = 0
    """Requests that returned a usable answer."""
    failed: int = 0
    """Requests whose error was not retried (retries exhausted, non-retryable error, cancelled)."""
    retries: dict[str, int] = Field(default_factory=dict)
    """Failed requests that were retried, by reason (rate_limit, overloaded, server_error, timeout, ...)."""
    fallbacks: dict[str, int] = Field(default_factory=dict)
    """Requests re-sent without an unsupported feature (n>1 split into single samples, logprobs dropped)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    """From `price_per_mtok`; None without a price. A lower bound: answers lost in transit may be billed."""

    def add_tokens(self, prompt: int, completion: int, price_per_mtok: tuple[float, float] | None) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        if price_per_mtok is not None:
            cost = (prompt * price_per_mtok[0] + completion * price_per_mtok[1]) / 1e6
            self.cost_usd = (self.cost_usd or 0.0) + cost


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After wins (capped at `max_retry_after`)."""

    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, retry_index: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            # a little jitter on top so that many clients told "wait 1 s" do not come back in lockstep
            return min(retry_after, self.max_retry_after) * (1.0 + 0.1 * rng.random())
        backoff = min(self.max_delay, self.base_delay * 2.0**retry_index)
        return backoff * (0.5 + 0.5 * rng.random())


class RetriesExhausted(Exception):
    """A request kept failing with retryable errors. Carries the last reason and a redacted detail."""

    def __init__(self, reason: str, attempts: int, detail: str) -> None:
        super().__init__(f"gave up after {attempts} attempts (last error: {reason}: {detail})")
        self.reason = reason
        self.attempts = attempts
        self.detail = detail


class InvalidResponse(Exception):
    """A 2xx answer that cannot be used (no choices, missing fields); retried like a truncated body."""


Verdict = tuple[str, float | None]  # (retry reason, Retry-After seconds)
Classify = Callable[[BaseException], "Verdict | None"]


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(status: int) -> str | None:
    """Retry reason for an HTTP status, or None when retrying cannot help."""
    if status == 429:
        return "rate_limit"
    if status == 529:
        return "overloaded"
    if status in (408, 409) or status >= 500:
        return "server_error"
    return None


def classify_sdk_error(
    exc: BaseException, *, status_error: type, timeout_error: type, connection_error: type
) -> Verdict | None:
    """Shared classification for the openai/anthropic SDK exception families (same shape in both)."""
    if isinstance(exc, timeout_error):
        return ("timeout", None)
    if isinstance(exc, connection_error):
        return ("connection", None)
    if isinstance(exc, status_error):
        reason = classify_status(int(getattr(exc, "status_code", 0)))
        if reason is None:
            return None
        response = getattr(exc, "response", None)
        return (reason, parse_retry_after(getattr(response, "headers", None)))
    if isinstance(exc, (ValueError, InvalidResponse)):  # json.JSONDecodeError is a ValueError: truncated body
        return ("invalid_response", None)
    return None


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret (and any long enough piece of one a server echoes back) masked."""
    for s in secrets:
        if s and len(s) >= 8:
            text = text.replace(s, "***")
            # servers echo masked keys like "sk-abc...wxyz": drop the visible head and tail too
            text = text.replace(s[-4:], "***").replace(s[:8], "***")
    return text


def public_url(url: str | None) -> str | None:
    """A base URL without user:password@ or a query string (both can carry credentials)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class BudgetExceeded(UserError):
    pass


async def call_with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    classify: Classify,
    policy: RetryPolicy,
    usage: Usage,
    budget: int | None,
    limiter: asyncio.Semaphore,
    rng: random.Random,
    secrets: Sequence[str] = (),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """Send one request, retrying retryable failures. Non-retryable errors propagate unchanged."""
    retry = 0
    while True:
        if budget is not None and usage.requests >= budget:
            raise BudgetExceeded(
                f"request budget exhausted ({budget} HTTP requests sent, retries included): "
                "raise request_budget or run fewer prompts"
            )
        usage.requests += 1  # counted before the await, so concurrent callers cannot overrun the budget
        async with limiter:
            try:
                result = await send()
            except asyncio.CancelledError:
                usage.failed += 1
                raise
            except Exception as exc:
                verdict = classify(exc)
                if verdict is None or retry >= policy.max_retries:
                    usage.failed += 1
                    if verdict is None:
                        raise
                    detail = redact(f"{type(exc).__name__}: {exc}", secrets)[:300]
                    log.warning("giving up on a request after %d attempts: %s", retry + 1, detail)
                    raise RetriesExhausted(verdict[0], retry + 1, detail) from None
            else:
                usage.succeeded += 1
                return result
        reason, retry_after = verdict
        usage.retries[reason] = usage.retries.get(reason, 0) + 1
        wait = policy.delay(retry, retry_after, rng)
        log.debug("retry %d after %s in %.2fs", retry + 1, reason, wait)
        retry += 1
        await sleep(wait)


async def gather_or_cancel(coros: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Results in input order; on the first exception cancel the rest (no wasted requests) and re-raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        pending: set[asyncio.Future[T]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class LoopThread:
    """One private event loop in a daemon thread: sync code submits coroutines and waits for them.

    The SDK clients (and their connection pools) belong to this loop and are reused across calls."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LoopThread.run called from its own loop (call the async method instead)")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt: stop the in-flight requests too
            raise

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
