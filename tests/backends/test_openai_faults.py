"""OpenAICompatBackend over real HTTP through the fault-injecting proxy, before a tiny echo server (fast).

The same proxy in front of the real llama.cpp server is exercised in test_openai_llamacpp.py."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("openai")

from faultproxy import EchoChatServer, FaultProxy

from inward.backends.base import GenerateConfig
from inward.backends.openai_compat import OpenAICompatBackend

REASON = {"429": "rate_limit", "500": "server_error", "503": "server_error", "drop": "connection",
          "truncate": "invalid_response", "stall": "timeout"}  # fmt: skip


def prompts(n: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": f"question {i}"}] for i in range(n)]


def expected_retries(proxy: FaultProxy) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind, n in proxy.faults.items():
        if kind in REASON:
            out[REASON[kind]] = out.get(REASON[kind], 0) + n
    return out


def test_every_fault_kind_is_retried_and_counted_exactly() -> None:
    kinds = ("429", "500", "503", "drop", "truncate", "slow")
    with (
        EchoChatServer() as echo,
        FaultProxy(
            echo.base_url, rate=0.5, kinds=kinds, max_faults=40, seed=3, retry_after=0.2, slow_s=0.1
        ) as proxy,
    ):
        with OpenAICompatBackend(f"openai-compatible/echo@{proxy.base_url}", backoff=(0.01, 0.1)) as b:
            out = b.generate(prompts(30), GenerateConfig(max_tokens=4))
        assert [[g.text for g in gens] for gens in out] == [[f"echo: question {i}"] for i in range(30)]
        assert set(proxy.faults) == set(kinds)  # the seed draws every kind
        assert proxy.failures / proxy.received >= 0.30
        assert b.usage.requests == proxy.received and b.usage.succeeded == 30
        assert b.usage.retries == expected_retries(proxy)
        # only forwarded requests reach the server: the echo server saw each successful prompt once, plus the
        # ones whose answer the proxy truncated
        assert len(echo.requests) == proxy.forwarded == 30 + proxy.faults["truncate"]


def test_stalled_responses_time_out_and_are_retried() -> None:
    with (
        EchoChatServer() as echo,
        FaultProxy(echo.base_url, rate=1.0, kinds=("stall",), max_faults=2, stall_s=2.0) as proxy,
    ):
        t = time.monotonic()
        with OpenAICompatBackend(
            f"openai-compatible/echo@{proxy.base_url}", timeout=0.5, backoff=(0.01, 0.1)
        ) as b:
            out = b.generate(prompts(2), GenerateConfig())
        assert [g[0].text for g in out] == ["echo: question 0", "echo: question 1"]
        assert b.usage.retries == {"timeout": 2} and time.monotonic() - t < 10


def test_n_split_over_real_http() -> None:
    with EchoChatServer(max_n=1) as echo:
        with OpenAICompatBackend(f"openai-compatible/echo@{echo.base_url}") as b:
            out = b.generate(prompts(2), GenerateConfig(temperature=1.0, n=3, seed=5))
        assert [len(g) for g in out] == [3, 3] and b.n_supported is False
        singles = [r for r in echo.requests if r.get("n", 1) == 1]
        assert sorted(r["seed"] for r in singles) == [5, 5, 6, 6, 7, 7]


def test_proxy_is_bounded() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("http://example.com:80/v1", rate=0.5)
    with EchoChatServer() as echo, FaultProxy(echo.base_url, rate=1.0, kinds=("500",), max_faults=3) as proxy:
        with OpenAICompatBackend(f"openai-compatible/echo@{proxy.base_url}", backoff=(0.01, 0.1)) as b:
            b.generate(prompts(1), GenerateConfig())
        assert proxy.faults == {"500": 3} and proxy.received == 4 and b.usage.retries == {"server_error": 3}
    short = FaultProxy(echo.base_url, rate=0.0, lifetime_s=0.2)
    time.sleep(0.6)  # it shut itself down
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{short.address}/v1/models", timeout=2)
