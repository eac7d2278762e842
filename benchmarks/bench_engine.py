"""Local engine speed: what early stopping and exact distributions save, on SmolLM2-135M (CPU by default).

    PYTHONPATH=src python benchmarks/bench_engine.py                  # 48 prompts, batch 16, 24 new tokens
    PYTHONPATH=src python benchmarks/bench_engine.py --n 96 --batch-size 32 --json /tmp/bench_engine.json

Modes, each on the same object-level prompts:
* `full`: greedy answers up to `--max-tokens` (what a plain generate loop does);
* `early`: the same, stopping each row once its first word and second character are fixed (same values);
* `sampled20`: 20 samples per prompt at T=1 with the same early stop (the paper's way to estimate a
  distribution);
* `exact`: the exact first-word distribution at T=1 to 99% coverage (tree expansion, no sampling).
Reported per mode: wall seconds, forwards, real and padded tokens pushed through the model, generated tokens,
and prompts per second. Model loading is excluded.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any

from inward.backends.base import GenerateConfig
from inward.backends.local import LocalBackend
from inward.models.testing import smollm2_path

TEMPLATES = [
    "Name a {}.",
    "What is your favourite {}? Answer with one word.",
    "Describe a {} in one sentence.",
    "Tell me a fact about a {}.",
    "Is a {} bigger than a car? Answer yes or no.",
    "What colour is a typical {}?",
    "Give three words that describe a {}.",
    "Pick a random number between 1 and 10, then name a {}.",
]
SUBJECTS = [
    "animal",
    "fruit",
    "city",
    "river",
    "planet",
    "colour",
    "tree",
    "car",
    "song",
    "book",
    "bird",
    "dish",
]


def first_word(text: str, finished: bool) -> str | None:
    m = re.match(r"\s*([^\s.,!?;:]+)[\s.,!?;:]", text)
    if m:
        return m.group(1).lower()
    return text.strip().lower() if finished else None


def second_char(text: str, finished: bool) -> str | None:
    s = text.lstrip()
    return s[1] if len(s) >= 2 else (s[1:] if finished else None)


def determined(text: str) -> bool:
    return first_word(text, False) is not None and second_char(text, False) is not None


def measure(lm: LocalBackend, name: str, fn: Any, n_prompts: int) -> dict[str, Any]:
    lm.stats.reset()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    row = {"mode": name, "wall_s": round(wall, 2), "prompts_per_s": round(n_prompts / wall, 2)}
    row |= {k: v for k, v in lm.stats.as_dict().items() if k not in {"wall_s", "prompts"}}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=48, help="number of prompts")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    prompts = [[{"role": "user", "content": t.format(s)}] for s in SUBJECTS for t in TEMPLATES][: args.n]
    lm = LocalBackend(smollm2_path(), device=args.device, batch_size=args.batch_size)
    greedy = GenerateConfig(max_tokens=args.max_tokens)
    sampled = GenerateConfig(temperature=1.0, n=20, max_tokens=args.max_tokens, seed=0)
    stops = [determined] * len(prompts)
    rows = [
        measure(lm, "full", lambda: lm.generate(prompts, greedy), len(prompts)),
        measure(lm, "early", lambda: lm.generate(prompts, greedy, stop_when=stops), len(prompts)),
        measure(lm, "sampled20", lambda: lm.generate(prompts, sampled, stop_when=stops), len(prompts)),
        measure(lm, "exact", lambda: lm.distribution(prompts, [first_word] * len(prompts)), len(prompts)),
    ]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "fingerprint": lm.fingerprint(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
