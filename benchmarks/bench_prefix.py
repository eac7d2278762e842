"""Shared-prefix prefill: the demo's hypotheticals with and without it, on the bundled models.

    python benchmarks/bench_prefix.py [--items 12] [--models smollm2-135m,qwen2.5-0.5b] [--rounds 2]

Asks the hypotheticals of `--items` validation items of two tasks, two properties each (as the demo's
evaluations do), greedily, with `share_prefixes` off and on, alternating the order over `--rounds`, in one
process. Prints, per model: forward tokens, wall and CPU seconds of each setting, their ratios, and whether the
answers are identical. Timings are noisy on a shared machine: compare the ratios of one run, on an idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

from inward.backends.base import GenerateConfig
from inward.backends.local import LocalBackend
from inward.models import install
from inward.prompts import DEFAULT
from inward.runs.hypothetical import HYPOTHETICAL_CONFIG
from inward.tasks import get as get_task

TASKS = ("animals_long", "mmlu_non_cot")
PROPERTIES = ("first_character", "second_character")


def prompts(items: int) -> list[list[dict[str, str]]]:
    out = []
    for name in TASKS:
        task = get_task(name)
        for item in task.items("val")[:items]:
            out += [DEFAULT.hypothetical_messages(task, item, p) for p in PROPERTIES]
    return out


def run(
    path: str, msgs: list[list[dict[str, str]]], share: bool, config: GenerateConfig
) -> dict[str, object]:
    lm = LocalBackend(path, device="cpu", share_prefixes=share)
    wall, cpu = time.perf_counter(), time.process_time()
    out = lm.generate(msgs, config)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "tokens": lm.stats.forward_tokens,
        "answers": [g[0].text for g in out],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=12)
    ap.add_argument("--models", default="smollm2-135m,qwen2.5-0.5b")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    msgs = prompts(args.items)
    print(
        f"{len(msgs)} hypotheticals ({args.items} items x {len(TASKS)} tasks x {len(PROPERTIES)} properties)"
    )
    for name in args.models.split(","):
        path = str(install(name))
        runs: dict[bool, list[dict[str, object]]] = {False: [], True: []}
        for r in range(args.rounds):
            for share in (False, True) if r % 2 == 0 else (True, False):
                runs[share].append(run(path, msgs, share, HYPOTHETICAL_CONFIG))

        def med(share: bool, key: str, runs: dict[bool, list[dict[str, object]]] = runs) -> float:
            return statistics.median(float(x[key]) for x in runs[share])  # type: ignore[arg-type]

        same = all(x["answers"] == runs[False][0]["answers"] for x in runs[True] + runs[False])
        print(
            f"{name}: forward tokens {med(False, 'tokens'):.0f} -> {med(True, 'tokens'):.0f} "
            f"(x{med(True, 'tokens') / med(False, 'tokens'):.2f}); wall {med(False, 'wall'):.1f}s -> "
            f"{med(True, 'wall'):.1f}s (x{med(True, 'wall') / med(False, 'wall'):.2f}); cpu "
            f"{med(False, 'cpu'):.1f}s -> {med(True, 'cpu'):.1f}s (x{med(True, 'cpu') / med(False, 'cpu'):.2f}); "
            f"answers identical: {same}"
        )


if __name__ == "__main__":
    main()
