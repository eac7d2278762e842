"""OpenAICompatBackend against recorded-format exchanges (httpx.MockTransport): payloads, retries, budget,
fallbacks for n>1 and logprobs, usage/cost, and that the API key never leaks."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("httpx")
pytest.importorskip("openai")

import httpx

from inward.backends.base import Backend, GenerateConfig
from inward.backends.openai_compat import (
    OpenAICompatBackend,
    TokenLogprob,
    logprob_distribution,
)
from inward.errors import UserError

SECRET = "sk-test-SECRETSECRET-9f8e7d6c"
URL = "http://mock.local/v1"


def completion(
    texts: list[str], *, finish: str = "stop", logprobs: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": i,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": t},
                "logprobs": None if logprobs is None else {"content": logprobs},
            }
            for i, t in enumerate(texts)
        ],
        "usage": {
            "prompt_tokens": 7,
            "completion_tokens": 2 * len(texts),
            "total_tokens": 7 + 2 * len(texts),
        },
    }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": "x"}}, headers=headers)


def echo(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        200, json=completion(["echo: " + body["messages"][-1]["content"]] * body.get("n", 1))
    )


Handler = Callable[[httpx.Request], Any]


def make(handler: Handler, ref: str = f"openai-compatible/m@{URL}", **kw: Any) -> OpenAICompatBackend:
    kw.setdefault("backoff", (0.001, 0.01))
    return OpenAICompatBackend(
        ref, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), **kw
    )


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INWARD_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def test_generate_in_order_with_the_right_payload() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        return echo(request)

    with make(handler, stop=["\n"], price_per_mtok=(1.0, 2.0)) as b:
        assert isinstance(b, Backend)
        config = GenerateConfig(temperature=0.7, max_tokens=5, n=2, seed=3)
        out = b.generate([user(f"q{i}") for i in range(6)], config)
    assert [[g.text for g in gens] for gens in out] == [[f"echo: q{i}"] * 2 for i in range(6)]
    assert all(
        g.finish_reason == "stop" and g.prompt_tokens == 7 and g.completion_tokens == 2 for g in out[0]
    )
    body = seen[0]
    assert body["model"] == "m" and body["max_tokens"] == 5 and body["n"] == 2 and body["seed"] == 3
    assert body["temperature"] == 0.7 and body["stop"] == ["\n"] and "logprobs" not in body
    assert b.usage.requests == 6 and b.usage.prompt_tokens == 42 and b.usage.completion_tokens == 24
    assert b.usage.cost_usd == pytest.approx((42 * 1.0 + 24 * 2.0) / 1e6)
    assert b.request_payload(user("q0"), config) == {**body, "messages": user("q0")}


def test_openai_provider_needs_a_key_and_uses_max_completion_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return echo(request)

    with make(handler, "openai/gpt-4o-mini") as b:
        b.generate([user("x")], GenerateConfig(max_tokens=3))
    assert seen[0]["max_completion_tokens"] == 3 and "max_tokens" not in seen[0]
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(UserError, match=r"\$OPENAI_API_KEY"):
        make(handler, "openai/gpt-4o-mini")


def test_vllm_adapter_is_addressed_by_name() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["model"])
        return echo(request)

    with make(handler, "openai-compatible/m1-self@http://vllm:8000/v1") as b:
        b.generate([user("x")], GenerateConfig())
    with make(handler, "openai-compatible/Qwen/Qwen2.5-0.5B@http://vllm:8000/v1+adapter=m1-self") as b:
        b.generate([user("x")], GenerateConfig())
        assert b.fingerprint()["served_model"] == "m1-self"
    assert seen == ["m1-self", "m1-self"]


def test_local_server_needs_no_key_and_wrong_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INWARD_API_KEY")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return echo(request)

    with make(handler) as b:
        b.generate([user("x")], GenerateConfig())
    assert seen == ["Bearer none"]
    with pytest.raises(UserError, match="openai"):
        make(handler, "anthropic/claude-3-5-sonnet-20240620")


def test_retry_after_is_honoured_and_faults_are_retried_and_counted() -> None:
    script = [
        error(429, "slow down", {"retry-after": "0.3"}),
        error(500, "oops"),
        error(503, "busy"),
        httpx.Response(
            200, content=b'{"id": "x", "choices": [{"ind', headers={"content-type": "application/json"}
        ),
        httpx.Response(200, json={"id": "x", "object": "chat.completion"}),  # valid JSON, no choices
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if script:
            return script.pop(0)
        return echo(request)

    t = time.monotonic()
    with make(handler) as b:
        out = b.generate([user("x")], GenerateConfig())
    assert time.monotonic() - t >= 0.3  # backoff alone would be ~0.02 s
    assert out[0][0].text == "echo: x"
    assert b.usage.retries == {"rate_limit": 1, "server_error": 2, "invalid_response": 2}
    assert b.usage.requests == 6 and b.usage.succeeded == 1
    assert b.usage.prompt_tokens == 7  # tokens of failed answers are not counted


def test_connection_errors_and_timeouts_are_retried() -> None:
    script = ["connect", "timeout"]

    def handler(request: httpx.Request) -> httpx.Response:
        if script:
            kind = script.pop(0)
            if kind == "connect":
                raise httpx.ConnectError("refused", request=request)
            raise httpx.ReadTimeout("slow", request=request)
        return echo(request)

    with make(handler) as b:
        assert b.generate([user("x")], GenerateConfig())[0][0].text == "echo: x"
    assert b.usage.retries == {"connection": 1, "timeout": 1}


def test_exhausted_retries_raise_one_line_or_mark_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error(503, f"upstream said {SECRET}")

    with make(handler, max_retries=2) as b, pytest.raises(UserError) as info:
        b.generate([user("x")], GenerateConfig())
    msg = str(info.value)
    assert "3 times" in msg and "server_error" in msg and "\n" not in msg
    assert SECRET not in msg and SECRET[-6:] not in msg
    with make(handler, max_retries=1, on_error="mark") as b:
        out = b.generate([user("x"), user("y")], GenerateConfig(n=2, temperature=1.0))
    assert [[g.finish_reason for g in gens] for gens in out] == [["error", "error"]] * 2
    assert b.usage.failed == 2 and b.usage.requests == 4


def test_request_budget_raises_user_error() -> None:
    with make(echo, request_budget=3) as b:
        b.generate([user("a"), user("b"), user("c")], GenerateConfig())
        with pytest.raises(UserError, match="budget"):
            b.generate([user("d")], GenerateConfig())
        assert b.usage.requests == 3
        b.reset_usage()
        assert b.generate([user("d")], GenerateConfig())[0][0].text == "echo: d"


def test_concurrency_is_bounded_end_to_end() -> None:
    import asyncio

    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return echo(request)

    with make(handler, concurrency=3) as b:
        out = b.generate([user(str(i)) for i in range(15)], GenerateConfig())
    assert [g[0].text for g in out] == [f"echo: {i}" for i in range(15)]
    assert peak == 3


@pytest.mark.parametrize("mode", ["reject", "short"])
def test_n_fallback_sends_one_request_per_sample_with_distinct_seeds(mode: str) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body.get("n", 1) > 1:
            if mode == "reject":
                return error(400, "n must be 1 for this model")
            return httpx.Response(200, json=completion([f"seed {body['seed']}"]))  # ignores n
        return httpx.Response(200, json=completion([f"seed {body['seed']}"]))

    with make(handler) as b:
        out = b.generate([user("x")], GenerateConfig(temperature=1.0, n=3, seed=10))
        assert [g.text for g in out[0]] == ["seed 10", "seed 11", "seed 12"]
        assert b.n_supported is False and b.fingerprint()["n_fallback"] == "split"
        seen.clear()
        out = b.generate([user("y")], GenerateConfig(temperature=1.0, n=3, seed=10))
    assert [g.text for g in out[0]] == ["seed 10", "seed 11", "seed 12"]
    assert [s.get("n", 1) for s in seen] == [1, 1, 1] and sorted(s["seed"] for s in seen) == [10, 11, 12]
    assert b.usage.fallbacks["n"] >= 1


def top(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"token": t, "logprob": math.log(p), "bytes": list(t.encode())} for t, p in pairs]


def test_generate_returns_top_logprobs_per_position() -> None:
    content = [
        {
            "token": "Yes",
            "logprob": math.log(0.7),
            "bytes": None,
            "top_logprobs": top([("Yes", 0.7), ("No", 0.2)]),
        },
        {
            "token": ".",
            "logprob": math.log(0.9),
            "bytes": None,
            "top_logprobs": top([(".", 0.9), ("!", 0.05)]),
        },
    ]
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=completion(["Yes."], logprobs=content))

    with make(handler) as b:
        g = b.generate([user("x")], GenerateConfig(top_logprobs=2))[0][0]
    assert seen[0]["logprobs"] is True and seen[0]["top_logprobs"] == 2
    assert g.logprobs is not None and list(g.logprobs[0]) == ["Yes", "No"]
    assert g.logprobs[1]["!"] == pytest.approx(math.log(0.05)) and g.completion_tokens == 2


def first_letter(s: str, finished: bool) -> str | None:
    s = s.strip()
    return s[0] if s and s[0] in "ABCD" else None


def first_word(s: str, finished: bool) -> str | None:
    words = s.split()
    if words and (finished or len(words) > 1 or s[-1:].isspace()):
        return words[0]
    return None


def tok(chosen: str, p: float, alts: list[tuple[str, float]]) -> TokenLogprob:
    return TokenLogprob(
        chosen.encode(), math.log(p), tuple((a.encode(), math.log(q)) for a, q in [(chosen, p), *alts])
    )


def test_logprob_distribution_single_token_values_are_exact() -> None:
    d = logprob_distribution([tok("B", 0.6, [("A", 0.3), ("C", 0.05), ("x", 0.01)])], "length", first_letter)
    assert d.method == "logprobs"
    assert d.probs == pytest.approx({"A": 0.3, "B": 0.6, "C": 0.05})
    assert d.covered == pytest.approx(0.95) and d.extra["determined_mass"] == pytest.approx(0.95)


def test_logprob_distribution_walks_the_greedy_path() -> None:
    tokens = [
        tok("Par", 0.5, [("London", 0.2), ("X", 0.1)]),
        tok("is", 0.8, [(" France", 0.1)]),
        tok(" is", 0.9, [("!", 0.05)]),
    ]
    d = logprob_distribution(tokens, "length", first_word)
    assert d.probs == pytest.approx({"London": 0.2, "X": 0.1, "Par": 0.05, "Paris": 0.36, "Paris!": 0.02})
    assert d.extra["determined_mass"] == pytest.approx(0.41)  # "Par France", "Paris is"
    assert d.extra["assumed_end_mass"] == pytest.approx(0.32)  # London, X, Paris! assumed to end there
    assert d.covered == pytest.approx(0.73)


def test_logprob_distribution_end_of_answer_and_truncation() -> None:
    def whole(s: str, finished: bool) -> str | None:
        return s if finished else None

    ended = logprob_distribution([tok("Yes", 0.7, [("No", 0.2)])], "stop", whole)
    assert ended.probs == pytest.approx({"No": 0.2, "Yes": 0.7}) and ended.covered == pytest.approx(0.9)
    cut = logprob_distribution([tok("Yes", 0.7, [])], "length", lambda s, f: None)
    assert cut.probs == {} and cut.covered == 0.0
    # a token that ends inside a multi-byte character: the text is decoded from bytes, not token strings
    e_acute = [TokenLogprob(b"\xc3", 0.0, ((b"\xc3", 0.0),)), TokenLogprob(b"\xa9", 0.0, ((b"\xa9", 0.0),))]
    assert logprob_distribution(e_acute, "stop", whole).probs == {"é": 1.0}


def test_distribution_uses_logprobs_when_the_server_has_them() -> None:
    content = [
        {"token": "B", "logprob": math.log(0.6), "bytes": None, "top_logprobs": top([("B", 0.6), ("A", 0.4)])}
    ]
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=completion(["B"], logprobs=content))

    with make(handler) as b:
        (d,) = b.distribution([user("x")], [first_letter], max_branches=5, max_tokens=3)
    assert d.method == "logprobs" and d.probs == pytest.approx({"A": 0.4, "B": 0.6})
    assert seen[0]["temperature"] == 0.0 and seen[0]["top_logprobs"] == 5 and seen[0]["max_tokens"] == 3
    assert "distribution_fallback" not in b.fingerprint()


@pytest.mark.parametrize("server", ["ignores", "rejects"])
def test_distribution_falls_back_to_sampling(server: str, caplog: pytest.LogCaptureFixture) -> None:
    answers = iter(["A", "B", "A", "A", "zzz"] * 100)
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body.get("logprobs") and server == "rejects":
            return error(400, "logprobs are not supported by this server")
        return httpx.Response(200, json=completion([next(answers) for _ in range(body.get("n", 1))]))

    with caplog.at_level(logging.WARNING), make(handler, fallback_samples=10) as b:
        before = b.fingerprint()
        d1, d2 = b.distribution([user("x"), user("y")], [first_letter, first_letter])
    assert d1.method == d2.method == "sampled" and d1.n_samples == 10
    assert d1.probs == pytest.approx({"A": 0.6, "B": 0.2}) and d1.covered == pytest.approx(1.0)
    assert d1.extra["fallback"].startswith("sampled")
    assert b.fingerprint()["distribution_fallback"] == "sampled:10" and "distribution_fallback" not in before
    sampled = [s for s in seen if not s.get("logprobs")]
    assert all(s["temperature"] == 1.0 and s["n"] == 10 for s in sampled)
    warnings = [r for r in caplog.records if "no logprobs" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()


def test_api_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        return error(401, f"Incorrect API key provided: {SECRET[:8]}****{SECRET[-4:]}")

    places: list[str] = []
    with caplog.at_level(logging.DEBUG), make(handler) as b:
        with pytest.raises(UserError) as info:
            b.generate([user("x")], GenerateConfig())
        places += [str(info.value), repr(info.value), repr(b), str(b), json.dumps(b.fingerprint())]
        places += [json.dumps(b.request_payload(user("x"), GenerateConfig(top_logprobs=3))), repr(vars(b))]
        places.append(b.usage.model_dump_json())
    assert "INWARD_API_KEY" in str(info.value) and info.value.__cause__ is None
    places.append(caplog.text)
    for text in places:
        assert SECRET not in text and SECRET[-4:] not in text and SECRET[8:16] not in text, text


def test_not_found_names_the_model() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error(404, "The model `nope` does not exist")

    with make(handler, "openai-compatible/nope@http://h:1/v1") as b, pytest.raises(UserError, match="'nope'"):
        b.generate([user("x")], GenerateConfig())
    assert b.usage.requests == 1 and b.usage.retries == {}


TOGETHER = "https://api.together.xyz/v1"


def together_logprobs(steps: list[tuple[str, float, dict[str, float]]]) -> dict[str, Any]:
    """Together's layout on chat completions (docs.together.ai/docs/logprobs): parallel lists per position."""
    return {
        "tokens": [t for t, _, _ in steps],
        "token_logprobs": [math.log(p) for _, p, _ in steps],
        "token_ids": list(range(len(steps))),
        "top_logprobs": [{a: math.log(q) for a, q in alts.items()} for _, _, alts in steps],
    }


def test_together_asks_for_k_alternatives_and_its_layout_gives_the_same_distribution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same answer in OpenAI's layout and in Together's gives the same distribution (computed by hand: the
    greedy path "Paris is" after "Par" + "is"; alternatives London 0.2, X 0.1 at the first step, " France"
    0.1 * 0.5 at the second, "!" 0.05 * 0.4 at the third)."""
    monkeypatch.setenv("TOGETHER_API_KEY", SECRET)
    steps = [
        ("Par", 0.5, {"Par": 0.5, "London": 0.2, "X": 0.1}),
        ("is", 0.8, {"is": 0.8, " France": 0.1}),
        (" is", 0.9, {" is": 0.9, "!": 0.05}),
    ]
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        body = completion(["Paris is"], finish="length")
        body["choices"][0]["logprobs"] = together_logprobs(steps)
        return httpx.Response(200, json=body)

    with make(handler, ref=f"openai-compatible/meta-llama/Llama-3-8b@{TOGETHER}") as b:
        (d,) = b.distribution([user("x")], [first_word], max_branches=5, max_tokens=3)
    assert seen[0]["logprobs"] == 5 and "top_logprobs" not in seen[0]  # Together's request form
    assert d.method == "logprobs"
    assert d.probs == pytest.approx({"London": 0.2, "X": 0.1, "Par": 0.05, "Paris": 0.36, "Paris!": 0.02})
    assert d.covered == pytest.approx(0.73)
    openai_layout = [tok(t, p, [(a, q) for a, q in alts.items() if a != t]) for t, p, alts in steps]
    assert logprob_distribution(openai_layout, "length", first_word).probs == pytest.approx(d.probs)


def test_completions_layout_without_alternatives_and_with_broken_lists() -> None:
    """logprobs=1 answers carry only the chosen token (the path still counts); lists of unequal length are a
    bad answer (retried, then an error), never silently truncated."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = completion(["B"])
        lp = together_logprobs([("B", 0.6, {"B": 0.6})])
        if len(calls) == 1:
            lp["token_logprobs"] = []  # broken: one token, no logprob
        body["choices"][0]["logprobs"] = lp
        return httpx.Response(200, json=body)

    with make(handler) as b:  # any server may answer in this layout
        (d,) = b.distribution([user("x")], [first_letter], max_branches=5, max_tokens=3)
    assert len(calls) == 2 and b.usage.retries  # the broken answer was retried
    assert d.method == "logprobs" and d.probs == pytest.approx({"B": 0.6}) and d.covered == pytest.approx(0.6)
