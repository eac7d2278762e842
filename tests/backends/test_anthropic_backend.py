"""AnthropicBackend against exchanges built from the documented Messages API format (httpx.MockTransport):
request shape, 429 with retry-after, 529 overloaded, sampling-based distributions, key hygiene."""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from typing import Any

import pytest

pytest.importorskip("anthropic")
# anthropic >= 2 runs on httpx2 and refuses httpx clients; older releases run on httpx: mock with its own
httpx: Any = importlib.import_module("httpx2" if "httpx2" in sys.modules else "httpx")

from inward.backends.anthropic_api import AnthropicBackend  # noqa: E402
from inward.backends.base import Backend, GenerateConfig  # noqa: E402
from inward.errors import UserError  # noqa: E402

SECRET = "sk-ant-api03-SECRETSECRET-0a1b2c3d"
MODEL = "claude-3-5-sonnet-20240620"


def message(text: str, stop_reason: str = "end_turn", usage: tuple[int, int] = (12, 4)) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def api_error(status: int, kind: str, msg: str, headers: dict[str, str] | None = None) -> Any:
    return httpx.Response(
        status, json={"type": "error", "error": {"type": kind, "message": msg}}, headers=headers
    )


def make(handler: Any, **kw: Any) -> AnthropicBackend:
    kw.setdefault("backoff", (0.001, 0.01))
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AnthropicBackend(f"anthropic/{MODEL}", http_client=client, **kw)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)


def test_request_shape_and_answers() -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []

    def handler(request: Any) -> Any:
        body = json.loads(request.content)
        seen.append((request, body))
        return httpx.Response(200, json=message("Paris." if len(seen) % 2 else "Lyon", "max_tokens"))

    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    with make(handler, stop=["\n\n"], price_per_mtok=(3.0, 15.0)) as b:
        assert isinstance(b, Backend)
        out = b.generate([prompt], GenerateConfig(temperature=1.0, n=2, max_tokens=7))
    request, body = seen[0]
    assert request.url.path == "/v1/messages"
    # SDK 2.x sends the key as a bearer token, older ones as x-api-key
    assert SECRET in (request.headers.get("x-api-key"), request.headers.get("authorization", "")[7:])
    assert "anthropic-version" in request.headers
    assert body == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "system": "Be brief.",
        "max_tokens": 7,
        "temperature": 1.0,
        "stop_sequences": ["\n\n"],
    }
    assert len(seen) == 2  # no `n` in the Messages API: one request per sample
    assert sorted(g.text for g in out[0]) == ["Lyon", "Paris."]
    assert {g.finish_reason for g in out[0]} == {"length"}
    assert out[0][0].prompt_tokens == 12 and out[0][0].completion_tokens == 4
    assert b.usage.prompt_tokens == 24 and b.usage.completion_tokens == 8
    assert b.usage.cost_usd == pytest.approx((24 * 3 + 8 * 15) / 1e6)
    assert b.fingerprint()["sdk"].startswith("anthropic ")


def test_429_with_retry_after_and_529_overloaded_are_retried() -> None:
    script = [
        api_error(
            429, "rate_limit_error", "Number of requests has exceeded your rate limit", {"retry-after": "0.4"}
        ),
        api_error(529, "overloaded_error", "Overloaded"),
        api_error(500, "api_error", "Internal server error"),
    ]

    def handler(request: Any) -> Any:
        return script.pop(0) if script else httpx.Response(200, json=message("ok"))

    t = time.monotonic()
    with make(handler) as b:
        out = b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig())
    assert time.monotonic() - t >= 0.4
    assert out[0][0].text == "ok" and out[0][0].finish_reason == "stop"
    assert b.usage.retries == {"rate_limit": 1, "overloaded": 1, "server_error": 1} and b.usage.requests == 4


def test_truncated_body_is_retried() -> None:
    calls = 0

    def handler(request: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            body = json.dumps(message("ok")).encode()
            return httpx.Response(
                200, content=body[: len(body) // 2], headers={"content-type": "application/json"}
            )
        return httpx.Response(200, json=message("ok"))

    with make(handler) as b:
        assert b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig())[0][0].text == "ok"
    assert b.usage.retries == {"invalid_response": 1}


def test_distribution_samples_at_temperature_one() -> None:
    answers = iter(["B", "B", "A", "C", "B"] * 10)
    seen: list[dict[str, Any]] = []

    def handler(request: Any) -> Any:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=message(next(answers)))

    def letter(s: str, finished: bool) -> str | None:
        return s[:1] if s[:1] in ("A", "B") else None

    with make(handler, fallback_samples=5) as b:
        (d,) = b.distribution([[{"role": "user", "content": "A, B or C?"}]], [letter], max_tokens=2)
    assert d.method == "sampled" and d.n_samples == 5 and "no logprobs" in d.extra["fallback"]
    assert d.probs == pytest.approx({"A": 0.2, "B": 0.6}) and d.covered == pytest.approx(1.0)
    assert len(seen) == 5 and all(s["temperature"] == 1.0 and s["max_tokens"] == 2 for s in seen)


def test_user_errors(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def unauthorized(request: Any) -> Any:
        return api_error(401, "authentication_error", f"invalid x-api-key {SECRET}")

    with caplog.at_level(logging.DEBUG), make(unauthorized) as b, pytest.raises(UserError) as info:
        b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig())
    for text in (str(info.value), repr(b), json.dumps(b.fingerprint()), caplog.text):
        assert SECRET not in text and SECRET[-8:] not in text
    assert "ANTHROPIC_API_KEY" in str(info.value) and b.usage.retries == {}

    with make(unauthorized) as b, pytest.raises(UserError, match=r"\[0, 1\]"):
        b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig(temperature=1.5))
    with make(unauthorized) as b, pytest.raises(UserError, match="logprobs"):
        b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig(top_logprobs=3))
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(UserError, match=r"\$ANTHROPIC_API_KEY"):
        make(unauthorized)


def test_api_version_header_can_be_pinned() -> None:
    versions: list[str] = []

    def handler(request: Any) -> Any:
        versions.append(request.headers["anthropic-version"])
        return httpx.Response(200, json=message("ok"))

    with make(handler, api_version="2023-06-01") as b:
        b.generate([[{"role": "user", "content": "hi"}]], GenerateConfig())
        assert b.fingerprint()["api_version"] == "2023-06-01"
    assert versions == ["2023-06-01"]


def test_refused_temperature_is_dropped_only_at_the_api_default(caplog: pytest.LogCaptureFixture) -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: Any) -> Any:
        body = json.loads(request.content)
        bodies.append(body)
        if "temperature" in body:
            return api_error(400, "invalid_request_error", "temperature: Extra inputs are not permitted")
        return httpx.Response(200, json=message("sampled"))

    prompt = [{"role": "user", "content": "hi"}]
    with caplog.at_level(logging.WARNING), make(handler) as b:
        with pytest.raises(UserError, match=r"temperature=1\.0"):
            b.generate([prompt], GenerateConfig(temperature=0.0))  # greedy cannot be had: refuse loudly
        assert b.fingerprint()["temperature"] == "api-default"
        out = b.generate([prompt, prompt], GenerateConfig(temperature=1.0, n=2))
        with pytest.raises(UserError, match=r"temperature=1\.0"):
            b.generate([prompt], GenerateConfig(temperature=0.5))
    assert [g.text for gens in out for g in gens] == ["sampled"] * 4
    assert all("temperature" not in body for body in bodies[1:])
    assert sum("refuses `temperature`" in r.getMessage() for r in caplog.records) == 1
