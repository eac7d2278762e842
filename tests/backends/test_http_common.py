"""Retries, backoff, Retry-After, budget and concurrency of the HTTP backends' shared machinery (offline)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import pytest

from inward.backends._http_common import (
    BudgetExceeded,
    InvalidResponse,
    LoopThread,
    RetriesExhausted,
    RetryPolicy,
    Usage,
    call_with_retries,
    classify_status,
    gather_or_cancel,
    parse_retry_after,
    public_url,
    redact,
)
from inward.errors import UserError


class Flaky(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        self.reason, self.retry_after = reason, retry_after


def classify(exc: BaseException) -> tuple[str, float | None] | None:
    return (exc.reason, exc.retry_after) if isinstance(exc, Flaky) else None


def run_calls(  # type: ignore[no-untyped-def]
    send, *, policy=RetryPolicy(max_retries=8), budget=None, usage=None, concurrency=4
):
    sleeps: list[float] = []
    usage = usage or Usage()

    async def fake_sleep(s: float) -> None:
        sleeps.append(s)

    async def main():  # type: ignore[no-untyped-def]
        return await call_with_retries(
            send,
            classify=classify,
            policy=policy,
            usage=usage,
            budget=budget,
            limiter=asyncio.Semaphore(concurrency),
            rng=random.Random(0),
            sleep=fake_sleep,
        )

    return asyncio.run(main()), usage, sleeps


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (parse_retry_after({"retry-after": later}) or 0) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_classify_status() -> None:
    assert classify_status(429) == "rate_limit"
    assert classify_status(529) == "overloaded"
    assert classify_status(500) == classify_status(503) == classify_status(408) == "server_error"
    assert classify_status(400) is None and classify_status(401) is None and classify_status(404) is None


def test_delay_honours_retry_after_and_backs_off_exponentially() -> None:
    p = RetryPolicy(base_delay=0.5, max_delay=8.0, max_retry_after=60.0)
    rng = random.Random(1)
    assert 3.0 <= p.delay(0, 3.0, rng) <= 3.3  # Retry-After wins over backoff, plus at most 10% jitter
    assert 60.0 <= p.delay(0, 1000.0, rng) <= 66.0  # capped
    for i in range(8):
        d = p.delay(i, None, rng)
        full = min(8.0, 0.5 * 2**i)
        assert full / 2 <= d <= full
    assert len({round(p.delay(3, None, rng), 6) for _ in range(20)}) > 10  # jittered


def test_retries_until_success_and_counts_by_reason() -> None:
    script = [Flaky("rate_limit", 2.0), Flaky("connection"), Flaky("invalid_response")]

    async def send() -> str:
        if script:
            raise script.pop(0)
        return "ok"

    result, usage, sleeps = run_calls(send)
    assert result == "ok"
    assert usage.retries == {"rate_limit": 1, "connection": 1, "invalid_response": 1}
    assert usage.requests == 4 and usage.succeeded == 1 and usage.failed == 0
    assert 2.0 <= sleeps[0] <= 2.2  # Retry-After honoured
    assert sleeps[1] <= 1.0 and sleeps[2] <= 2.0  # then exponential backoff from 0.5 s
    assert usage.requests == usage.succeeded + sum(usage.retries.values()) + usage.failed


def test_gives_up_after_max_retries() -> None:
    async def send() -> str:
        raise Flaky("server_error")

    with pytest.raises(RetriesExhausted) as info:
        run_calls(send, policy=RetryPolicy(max_retries=2))
    assert info.value.attempts == 3 and info.value.reason == "server_error"


def test_non_retryable_error_propagates_at_once() -> None:
    calls = 0

    async def send() -> str:
        nonlocal calls
        calls += 1
        raise KeyError("bad request")

    usage = Usage()
    with pytest.raises(KeyError):
        run_calls(send, usage=usage)
    assert calls == 1 and usage.failed == 1 and usage.retries == {}


def test_budget_counts_retries_and_stops_exactly() -> None:
    async def send() -> str:
        raise Flaky("rate_limit", 0.0)

    usage = Usage()
    with pytest.raises(BudgetExceeded) as info:
        run_calls(send, budget=3, usage=usage)
    assert isinstance(info.value, UserError) and "budget" in str(info.value)
    assert usage.requests == 3


def test_budget_is_exact_under_concurrency() -> None:
    usage = Usage()

    async def send() -> str:
        await asyncio.sleep(0.01)
        return "ok"

    async def main() -> list[BaseException | str]:
        limiter = asyncio.Semaphore(8)
        coros = [
            call_with_retries(
                send,
                classify=classify,
                policy=RetryPolicy(),
                usage=usage,
                budget=5,
                limiter=limiter,
                rng=random.Random(0),
            )
            for _ in range(12)
        ]
        return await asyncio.gather(*coros, return_exceptions=True)

    results = asyncio.run(main())
    assert results.count("ok") == 5 and usage.requests == 5
    assert all(isinstance(r, BudgetExceeded) for r in results if r != "ok")


def test_concurrency_is_bounded() -> None:
    in_flight = peak = 0

    async def send() -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return 1

    async def main() -> list[int]:
        limiter = asyncio.Semaphore(3)
        usage = Usage()
        return await asyncio.gather(
            *[
                call_with_retries(
                    send,
                    classify=classify,
                    policy=RetryPolicy(),
                    usage=usage,
                    budget=None,
                    limiter=limiter,
                    rng=random.Random(0),
                )
                for _ in range(20)
            ]
        )

    assert sum(asyncio.run(main())) == 20
    assert peak == 3


def test_usage_cost() -> None:
    u = Usage(cost_usd=0.0)
    u.add_tokens(1_000_000, 500_000, (0.15, 0.60))
    assert u.cost_usd == pytest.approx(0.15 + 0.30)
    free = Usage()
    free.add_tokens(10, 10, None)
    assert free.cost_usd is None and free.prompt_tokens == 10


def test_redact_and_public_url() -> None:
    key = "sk-proj-ABCDEFGHIJKLMNOP1234"
    msg = f"Incorrect API key provided: {key} (sk-proj-********1234)"
    out = redact(msg, [key])
    assert key not in out and "1234" not in out and "ABCDEFGH" not in out
    assert redact("short", ["none"]) == "short"
    assert public_url("https://user:pw@host:8000/v1?api-key=x") == "https://host:8000/v1"
    assert public_url(None) is None


def test_gather_or_cancel_keeps_order_and_cancels_the_rest() -> None:
    cancelled = []

    async def ok(i: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return i

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return -1

    async def boom() -> int:
        await asyncio.sleep(0.01)
        raise InvalidResponse("x")

    assert asyncio.run(gather_or_cancel([ok(0, 0.03), ok(1, 0.0), ok(2, 0.01)])) == [0, 1, 2]
    t = time.monotonic()
    with pytest.raises(InvalidResponse):
        asyncio.run(gather_or_cancel([slow(), boom()]))
    assert time.monotonic() - t < 5 and cancelled == [True]


def test_loop_thread_works_from_inside_a_running_loop() -> None:
    lt = LoopThread("test")

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def outer() -> int:  # e.g. a notebook: asyncio.run would refuse here
        return lt.run(answer())

    assert asyncio.run(outer()) == 42
    assert lt.run(answer()) == 42
    lt.close()
    assert lt.run(answer()) == 42  # a closed LoopThread starts a fresh loop on demand
    lt.close()
