"""OpenAICompatBackend end to end against a real llama.cpp server (SmolLM2-135M, xllamacpp), also through the
fault-injecting proxy at >= 30% failed requests."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("openai")
pytest.importorskip("xllamacpp")

from faultproxy import FaultProxy
from llamacpp_server import LlamaCppServer, serve_smollm2

from inward.backends.base import GenerateConfig, Generation
from inward.backends.openai_compat import OpenAICompatBackend

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Name an animal.", "What is the capital of France?", "Pick a number between 1 and 10.", "Name a colour.",
    "Is 7 odd or even?", "Say hello.", "Name a fruit.", "What is 2 + 2?", "Name a country in Europe.",
    "Give me a word that rhymes with cat.", "Name a planet.", "What day comes after Monday?", "Name a tree.",
    "What is the opposite of hot?", "Name a musical instrument.", "Name a sport.", "What colour is the sky?",
    "Name a vegetable.", "Name a month of the year.", "Spell the word dog backwards.",
]  # fmt: skip
PROMPTS = [[{"role": "user", "content": q}] for q in QUESTIONS]
GREEDY = GenerateConfig(temperature=0.0, max_tokens=8)


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaCppServer]:
    yield from serve_smollm2()


def backend(base_url: str, **kw: Any) -> OpenAICompatBackend:
    # a shared 2-core box can take minutes per request under load; a client timeout would re-send work the
    # server is still doing and spoil the exact request counts below
    return OpenAICompatBackend(f"openai-compatible/smollm2@{base_url}", timeout=600, **kw)


def texts(out: list[list[Generation]]) -> list[list[str]]:
    return [[g.text for g in gens] for gens in out]


@pytest.fixture(scope="module")
def reference(server: LlamaCppServer) -> list[list[Generation]]:
    with backend(server.base_url, concurrency=8) as b:
        out = b.generate(PROMPTS, GREEDY)
        assert b.usage.requests == 20 and b.usage.completion_tokens == sum(
            g[0].completion_tokens for g in out
        )
    return out


def test_greedy_answers_are_real_and_deterministic(
    server: LlamaCppServer, reference: list[list[Generation]]
) -> None:
    assert all(len(g) == 1 and g[0].text.strip() for g in reference)
    assert all(
        g[0].finish_reason in ("stop", "length") and 0 < g[0].completion_tokens <= 8 for g in reference
    )
    assert len({g[0].text for g in reference}) > 10  # different prompts, different answers
    with backend(server.base_url, concurrency=1) as b:
        again = b.generate(PROMPTS[:6], GREEDY)
    assert texts(again) == texts(reference[:6])


def test_logprobs_follow_the_greedy_answer(server: LlamaCppServer) -> None:
    with backend(server.base_url) as b:
        out = b.generate(PROMPTS[:3], GenerateConfig(max_tokens=6, top_logprobs=5))
    for (g,) in out:
        assert g.logprobs is not None and len(g.logprobs) == g.completion_tokens
        for position in g.logprobs:
            assert 1 <= len(position) <= 5 and all(lp <= 1e-6 for lp in position.values())
            assert sum(math.exp(lp) for lp in position.values()) <= 1 + 1e-4
        # greedy: the answer is the most likely token at every position
        assert "".join(max(p, key=p.__getitem__) for p in g.logprobs) == g.text


def test_distribution_from_top_logprobs(server: LlamaCppServer) -> None:
    def first_char(s: str, finished: bool) -> str | None:
        return s[0] if s else None

    with backend(server.base_url) as b:
        (d,) = b.distribution(PROMPTS[4:5], [first_char], max_branches=20, max_tokens=4)
        (g,) = b.generate(PROMPTS[4:5], GenerateConfig(max_tokens=1, top_logprobs=20))[0]
    assert d.method == "logprobs" and b.logprobs_supported is True
    assert g.logprobs is not None
    by_char: dict[str, float] = {}
    for tok, lp in g.logprobs[0].items():
        if tok:
            by_char[tok[0]] = by_char.get(tok[0], 0.0) + math.exp(lp)
    assert d.probs == pytest.approx(by_char, abs=1e-6)
    assert 0.3 < d.covered <= 1.0 and d.covered == pytest.approx(sum(d.probs.values()))
    assert max(d.probs, key=d.probs.__getitem__) == g.text[0]


def test_native_n_samples(server: LlamaCppServer) -> None:
    with backend(server.base_url) as b:
        (gens,) = b.generate(PROMPTS[:1], GenerateConfig(temperature=1.0, n=3, max_tokens=8, seed=1))
    assert len(gens) == 3 and b.n_supported is True and b.usage.requests == 1


def test_faults_at_30_percent_change_nothing(
    server: LlamaCppServer, reference: list[list[Generation]]
) -> None:
    with (
        FaultProxy(
            server.base_url,
            rate=0.45,
            kinds=("429", "500", "503", "drop", "truncate", "slow"),
            max_faults=40,
            seed=7,
            retry_after=1.0,
            slow_s=0.3,
        ) as proxy,
        backend(proxy.base_url, concurrency=8, backoff=(0.05, 1.0)) as b,
    ):
        out = b.generate(PROMPTS, GREEDY)
    assert texts(out) == texts(reference)  # identical answers, one per prompt, in order
    assert proxy.failures / proxy.received >= 0.30
    assert b.usage.requests == proxy.received and b.usage.succeeded == len(PROMPTS)
    assert sum(b.usage.retries.values()) == proxy.failures
    assert b.usage.retries.get("rate_limit", 0) == proxy.faults["429"]
    assert b.usage.retries.get("connection", 0) == proxy.faults["drop"]
    assert b.usage.retries.get("invalid_response", 0) == proxy.faults["truncate"]
