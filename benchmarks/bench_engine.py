"""Local engine speed: naive HF `generate` vs the batched early-stopping engine; exact vs sampled calibration.

    PYTHONPATH=src python benchmarks/bench_engine.py --quick          # smoke run: SmolLM2-135M, 40 prompts
    PYTHONPATH=src python benchmarks/bench_engine.py                  # both models, 200 prompts (~12 min, 2 cores)
    PYTHONPATH=src python benchmarks/bench_engine.py --items 60 --models smollm2-135m --json out.json

Prompts: the first val items of the six held-out tasks (spread evenly), rendered with `prompts.DEFAULT`; the
properties are each task's own. For each model in turn, on those prompts:

(a) naive: one prompt at a time, `model.generate` greedy until EOS (at most `--max-new-tokens`), properties
    read off the whole answer; run on a subset spread over the tasks, extrapolated per task to all prompts.
    Engine: `LocalBackend.generate` batched, each row stopping once all its properties are determined. Both
    timings include tokenisation and property extraction. Agreement = equal property values on the subset.
(b) the engine with early stop off vs on (same prompts in the same calls, same token cap), text tasks and choice
    tasks apart, on `--off-items` of the prompts (without early stop answers run to EOS: the slowest pass).
(c) calibration: 20 samples at T=1 per prompt (at most 16 tokens; as the paper does, and also with early stop)
    vs `LocalBackend.distribution` (exact, coverage 0.99): forward tokens, wall time, and the error of the
    20-sample estimate against the exact distribution (total variation; |error| of the probability of the
    exact top value). "exp. TV" is that error simulated from the exact distribution: it should match.
(d) model FLOP/s = 2 x non-embedding parameters x forward tokens / wall time (a lower bound: attention scores
    and the LM head are not counted) against a measured fp32 matmul peak (2048x2048, best of a few rounds).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inward import models
from inward import properties as P
from inward import tasks as T
from inward.backends.base import NONE_KEY, GenerateConfig, Messages, StopWhen
from inward.backends.local import LocalBackend
from inward.prompts import DEFAULT
from inward.runs.distributions import object_resolver

TEXT_TASKS = ("animals_long", "english_words_long", "stories_sentences")
CALIBRATION = (
    ("animals_long", "second_character"),
    ("mmlu_non_cot", "among_a_or_c"),
    ("survival_instinct", "ethical_stance"),
)
TARGET_A, TARGET_B, COVERAGE = 10.0, 3.0, 0.99
Values = dict[str, str | None]


@dataclass
class Prompt:
    task: str
    item: T.Item
    messages: Messages
    props: list[P.Property]

    def values(self, raw: str) -> Values:
        cleaned = P.clean(raw)
        return {p.name: p.extract(cleaned, target=self.item.target) for p in self.props}

    def stop_rule(self) -> StopWhen:
        def stop(raw: str) -> bool:
            cleaned = P.clean(raw)
            return all(p.determined(cleaned, False, target=self.item.target) for p in self.props)

        return stop


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def held_out_prompts(n: int) -> list[Prompt]:
    """`n` prompts spread evenly over the held-out tasks (the first val items of each)."""
    names = T.HELD_OUT_TASKS
    out = []
    for k, name in enumerate(names):
        task = T.get(name)
        count = n // len(names) + (k < n % len(names))
        props = [P.get(p) for p in task.properties]
        out += [
            Prompt(name, it, DEFAULT.object_messages(task, it), props) for it in task.items("val")[:count]
        ]
    return out


def spread(prompts: list[Prompt], k: int) -> list[int]:
    """Indices of `k` prompts taken round-robin over the tasks (the first ones of each)."""
    queues: dict[str, list[int]] = {}
    for i, p in enumerate(prompts):
        queues.setdefault(p.task, []).append(i)
    out: list[int] = []
    while len(out) < min(k, len(prompts)):
        for q in queues.values():
            if q and len(out) < k:
                out.append(q.pop(0))
    return sorted(out)


def delta(lm: LocalBackend, before: dict[str, float]) -> dict[str, float]:
    return {k: v - before[k] for k, v in lm.stats.as_dict().items()}


# --- (a) and (b) ---------------------------------------------------------------------------------------
def run_engine(lm: LocalBackend, prompts: list[Prompt], early_stop: bool, max_new: int) -> dict[str, Any]:
    before = lm.stats.as_dict()
    start = time.perf_counter()
    stops = [p.stop_rule() for p in prompts] if early_stop else None
    outs = lm.generate([p.messages for p in prompts], GenerateConfig(max_tokens=max_new), stops)
    values = [p.values(gens[0].text) for p, gens in zip(prompts, outs, strict=True)]
    wall = time.perf_counter() - start
    d = delta(lm, before)
    return {
        "wall_s": wall,
        "generated_tokens": int(d["generated_tokens"]),
        "forward_tokens": int(d["forward_tokens"]),
        "finish": dict(Counter(gens[0].finish_reason for gens in outs)),
        "values": values,
    }


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every EOS id the model or tokenizer declares (the same set the engine stops on)."""
    ids: set[int] = set()
    for source in (model.generation_config, model.config, tokenizer):
        value = getattr(source, "eos_token_id", None)
        ids.update([value] if isinstance(value, int) else value or [])
    return sorted(ids)


def run_naive(lm: LocalBackend, prompts: list[Prompt], max_new: int) -> dict[str, Any]:
    """What a plain transformers script does: chat template, one prompt at a time, greedy until EOS."""
    model, tok = lm.model, lm.tokenizer
    eos = eos_ids(model, tok)
    walls, gen_tokens, fwd_tokens, values = [], [], [], []
    for p in prompts:
        start = time.perf_counter()
        text = tok.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False, return_tensors="pt").to(lm.device)
        with torch.inference_mode():
            out = model.generate(
                **ids, do_sample=False, max_new_tokens=max_new, eos_token_id=eos, pad_token_id=eos[0]
            )
        new = out[0, ids["input_ids"].shape[1] :]
        answer = tok.decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        values.append(p.values(answer))
        walls.append(time.perf_counter() - start)
        gen_tokens.append(int(new.numel()))
        fwd_tokens.append(int(ids["input_ids"].shape[1]) + int(new.numel()) - 1)  # last token is not fed back
    return {"walls": walls, "generated_tokens": gen_tokens, "forward_tokens": fwd_tokens, "values": values}


def agreement(a: list[Values], b: list[Values]) -> tuple[int, int]:
    pairs = [(x[k], y[k]) for x, y in zip(a, b, strict=True) for k in x]
    return sum(x == y for x, y in pairs), len(pairs)


# --- (c) -----------------------------------------------------------------------------------------------
def calibration(
    lm: LocalBackend, per_pair: int, max_branches: int, *, samples: int, max_tokens: int, seed: int = 0
) -> dict[str, Any]:
    msgs: list[Messages] = []
    resolvers: list[Callable[[str, bool], str | None]] = []
    for task_name, prop in CALIBRATION:
        task = T.get(task_name)
        for it in task.items("val")[:per_pair]:
            msgs.append(DEFAULT.object_messages(task, it))
            resolvers.append(object_resolver(P.get(prop), it.target))
    out: dict[str, Any] = {"prompts": len(msgs), "samples": samples}

    before, start = lm.stats.as_dict(), time.perf_counter()
    exact = lm.distribution(
        msgs, resolvers, coverage=COVERAGE, max_branches=max_branches, max_tokens=max_tokens
    )
    out["exact"] = {
        "wall_s": time.perf_counter() - start,
        "forward_tokens": int(delta(lm, before)["forward_tokens"]),
        "max_branches": max_branches,
        "min_covered": min(d.covered for d in exact),
        "mean_covered": float(np.mean([d.covered for d in exact])),
    }
    cfg = GenerateConfig(temperature=1.0, n=samples, max_tokens=max_tokens, seed=seed)
    early: list[StopWhen | None] = [_resolved(r) for r in resolvers]
    rng = np.random.default_rng(seed)
    for label, stops in (("sampled", None), ("sampled_early_stop", early)):
        before, start = lm.stats.as_dict(), time.perf_counter()
        gens = lm.generate(msgs, cfg, stops)
        wall = time.perf_counter() - start
        tv, top, tv_expected = [], [], []
        for resolve, d, g in zip(resolvers, exact, gens, strict=True):
            # As `runs.distributions` does: an answer cut at max_tokens counts as finished.
            counts = Counter(resolve(x.text, True) or NONE_KEY for x in g)
            p_s = {k: v / len(g) for k, v in counts.items()}
            p_e = {k: v / d.covered for k, v in d.probs.items()}
            tv.append(0.5 * sum(abs(p_s.get(k, 0.0) - p_e.get(k, 0.0)) for k in set(p_s) | set(p_e)))
            best = max(p_e, key=lambda k: p_e[k])
            top.append(abs(p_s.get(best, 0.0) - p_e[best]))
            tv_expected.append(_expected_tv(p_e, samples, rng))
        out[label] = {
            "wall_s": wall,
            "forward_tokens": int(delta(lm, before)["forward_tokens"]),
            "mean_tv": float(np.mean(tv)),
            "mean_top1_err": float(np.mean(top)),
            "expected_tv": float(np.mean(tv_expected)),
        }
    return out


def _resolved(resolve: Callable[[str, bool], str | None]) -> StopWhen:
    return lambda raw: resolve(raw, False) is not None


def _expected_tv(p: dict[str, float], n: int, rng: np.random.Generator, draws: int = 2000) -> float:
    """Mean total variation between an n-sample estimate and `p`, simulated."""
    probs = np.array(list(p.values()))
    probs = probs / probs.sum()
    freqs = rng.multinomial(n, probs, size=draws) / n
    return float(0.5 * np.abs(freqs - probs).sum(axis=1).mean())


# --- (d) -----------------------------------------------------------------------------------------------
def matmul_peak(device: torch.device, n: int = 2048, reps: int = 5, rounds: int = 3) -> float:
    """Best fp32 matmul FLOP/s over a few rounds: the practical peak at the current thread count."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(rounds):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * reps / best


def non_embedding_params(model: Any) -> int:
    skip = {id(model.get_input_embeddings().weight), id(model.get_output_embeddings().weight)}
    unique = {id(p): p for p in model.parameters()}
    return sum(p.numel() for key, p in unique.items() if key not in skip)


# --- one model -----------------------------------------------------------------------------------------
def bench_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    lm = LocalBackend(
        models.install(name), device=args.device, batch_size=args.batch_size, threads=args.threads
    )
    prompts = held_out_prompts(args.items)
    res: dict[str, Any] = {
        "model": name,
        "prompts": len(prompts),
        "device": str(lm.device),
        "threads": torch.get_num_threads(),
        "non_embedding_params": non_embedding_params(lm.model),
    }
    lm.generate([prompts[0].messages], GenerateConfig(max_tokens=2))  # warm up kernels and thread pools
    run_naive(lm, prompts[:1], 2)
    res["peak_flops"] = matmul_peak(lm.device)

    def engine(idx: list[int], early: bool, what: str) -> dict[str, dict[str, Any]]:
        out = {}
        for g in ("text", "choice"):
            part = [i for i in idx if (prompts[i].task in TEXT_TASKS) == (g == "text")]
            log(
                f"{name}: engine, early stop {'on' if early else 'off'}, {g} tasks ({len(part)} prompts{what})"
            )
            r = run_engine(lm, [prompts[i] for i in part], early, args.max_new_tokens)
            values.update({(early, i): v for i, v in zip(part, r.pop("values"), strict=True)})
            out[g] = r
        return out

    values: dict[tuple[bool, int], Values] = {}
    every = list(range(len(prompts)))
    res["engine"] = engine(every, True, "")
    # (b) without early stop is the slowest pass (answers run to EOS), so it may use a subset; early stop
    # then runs again on exactly that subset, so both sides see the same batches.
    sub_b = spread(prompts, args.off_items)
    what = "" if len(sub_b) == len(prompts) else ", subset for (b)"
    res["early_stop_on"] = res["engine"] if not what else engine(sub_b, True, what)
    res["early_stop_off"] = engine(sub_b, False, what)

    sub = spread(prompts, args.naive_items)
    log(f"{name}: naive HF generate on {len(sub)} of {len(prompts)} prompts")
    naive = run_naive(lm, [prompts[i] for i in sub], args.max_new_tokens)
    # Extrapolate per task: a text answer costs far more than a one-letter choice.
    per_task: dict[str, list[float]] = {}
    for i, w in zip(sub, naive["walls"], strict=True):
        per_task.setdefault(prompts[i].task, []).append(w)
    same, total = agreement(naive["values"], [values[True, i] for i in sub])
    both = [k for k, i in enumerate(sub) if (False, i) in values]
    same_off, total_off = agreement([naive["values"][k] for k in both], [values[False, sub[k]] for k in both])
    res["naive"] = {
        "measured_prompts": len(sub),
        "measured_wall_s": sum(naive["walls"]),
        "estimated_wall_s": sum(float(np.mean(per_task[p.task])) for p in prompts),
        "extrapolated": len(sub) < len(prompts),
        "generated_tokens": sum(naive["generated_tokens"]),
        "forward_tokens": sum(naive["forward_tokens"]),
        "agree": same,
        "compared": total,
        "agree_early_stop_off": same_off,
        "compared_early_stop_off": total_off,
    }

    log(f"{name}: calibration, {args.calib_items} prompts x {len(CALIBRATION)} (task, property) pairs")
    res["calibration"] = calibration(lm, args.calib_items, args.max_branches, samples=20, max_tokens=16)
    res["peak_flops"] = max(res["peak_flops"], matmul_peak(lm.device))
    res["wall_s"], res["cpu_s"] = time.perf_counter() - wall0, time.process_time() - cpu0
    return res


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


# --- report --------------------------------------------------------------------------------------------
def report(r: dict[str, Any]) -> list[tuple[str, bool]]:
    """Print one model's tables; return (target, met) pairs."""
    n, peak, params = r["naive"], r["peak_flops"], r["non_embedding_params"]
    keys = ("wall_s", "generated_tokens", "forward_tokens")
    eng = {
        key: {k: sum(part[k] for part in r[key].values()) for k in keys}
        for key in ("engine", "early_stop_on", "early_stop_off")
    }
    print(
        f"\n=== {r['model']}  ({r['prompts']} prompts, {r['device']}, {r['threads']} threads, "
        f"{params / 1e6:.0f}M non-embedding params; this model took {r['wall_s']:.0f} s wall, "
        f"{r['cpu_s']:.0f} s CPU)"
    )
    how = (
        f"measured on {n['measured_prompts']} prompts ({n['measured_wall_s']:.1f} s), extrapolated per task"
        if n["extrapolated"]
        else "measured on all prompts"
    )
    ratio_a = n["estimated_wall_s"] / eng["engine"]["wall_s"]
    print(f"(a) naive HF generate, one prompt at a time: {n['estimated_wall_s']:8.1f} s  ({how})")
    print(
        f"    engine, batched + early stop:            {eng['engine']['wall_s']:8.1f} s  "
        f"ratio {ratio_a:.1f}x (target >= {TARGET_A:.0f}x)"
    )
    print(
        f"    property values equal on the measured prompts: {n['agree']}/{n['compared']} = "
        f"{_pct(n['agree'], n['compared'])} (engine without early stop: {n['agree_early_stop_off']}/"
        f"{n['compared_early_stop_off']} = {_pct(n['agree_early_stop_off'], n['compared_early_stop_off'])})"
    )
    print("(b) early stop  tasks   prompts  wall off s  wall on s   ratio  gen tok off  gen tok on   ratio")
    ratio_b = 0.0
    for g in ("text", "choice"):
        off, on = r["early_stop_off"][g], r["early_stop_on"][g]
        wr, tr = off["wall_s"] / on["wall_s"], off["generated_tokens"] / max(on["generated_tokens"], 1)
        ratio_b = wr if g == "text" else ratio_b
        print(
            f"                {g:<7} {sum(on['finish'].values()):>7} {off['wall_s']:>11.1f} "
            f"{on['wall_s']:>10.1f} "
            f"{wr:>6.1f}x {off['generated_tokens']:>12} {on['generated_tokens']:>11} {tr:>6.1f}x"
        )
    c = r["calibration"]
    ex, s = c["exact"], c["sampled"]
    print(f"(c) calibration, {c['prompts']} prompts      fwd tokens   wall s   mean TV  exp. TV  |top1 err|")
    for label in ("sampled", "sampled_early_stop"):
        m, name = c[label], f"{label} (n={c['samples']})"
        print(
            f"    {name:<30} {m['forward_tokens']:>10} {m['wall_s']:>8.1f} {m['mean_tv']:>9.3f} "
            f"{m['expected_tv']:>8.3f} {m['mean_top1_err']:>10.3f}"
        )
    label = f"exact (max {ex['max_branches']} branches)"
    print(f"    {label:<30} {ex['forward_tokens']:>10} {ex['wall_s']:>8.1f} {0:>9.3f} {'-':>8} {0:>10.3f}")
    # Exact has no sampling error; what it does not enumerate is its only error, at most the uncovered mass.
    print(
        f"    exact: covered mass mean {ex['mean_covered']:.4f}, min {ex['min_covered']:.4f} "
        f"(the uncovered mass bounds its error; target coverage {COVERAGE})"
    )
    print(
        f"    sampled / exact: forward tokens {s['forward_tokens'] / ex['forward_tokens']:.1f}x, "
        f"wall {s['wall_s'] / ex['wall_s']:.1f}x"
    )
    print(
        f"(d) fp32 matmul peak {peak / 1e9:.1f} GFLOP/s; "
        f"model FLOP/s = 2 x {params / 1e6:.0f}M x forward tokens / wall"
    )
    phases = [
        ("naive (measured prompts)", n["forward_tokens"], n["measured_wall_s"]),
        ("engine, early stop on", eng["engine"]["forward_tokens"], eng["engine"]["wall_s"]),
        ("engine, early stop off", eng["early_stop_off"]["forward_tokens"], eng["early_stop_off"]["wall_s"]),
        ("calibration exact", ex["forward_tokens"], ex["wall_s"]),
        ("calibration sampled", s["forward_tokens"], s["wall_s"]),
    ]
    for label, toks, wall in phases:
        flops = 2 * params * toks / wall
        print(
            f"    {label:<26} {toks:>9} tok {toks / wall:>8.1f} tok/s {flops / 1e9:>7.1f} GFLOP/s "
            f"{100 * flops / peak:>5.1f}% of peak"
        )
    return [
        (f"{r['model']} (a) naive / engine >= {TARGET_A:.0f}x: {ratio_a:.1f}x", ratio_a >= TARGET_A),
        (f"{r['model']} (b) early stop, text tasks >= {TARGET_B:.0f}x: {ratio_b:.1f}x", ratio_b >= TARGET_B),
        (
            f"{r['model']} (c) exact forward tokens <= 20 samples' ({ex['forward_tokens']} <= "
            f"{s['forward_tokens']}; with early stop {c['sampled_early_stop']['forward_tokens']})",
            ex["forward_tokens"] <= s["forward_tokens"],
        ),
        (
            f"{r['model']} (c) exact: no sampling error; covered mass >= {COVERAGE} on every prompt "
            f"(min {ex['min_covered']:.4f}, mean uncovered {1 - ex['mean_covered']:.4f} vs 20-sample "
            f"TV {s['mean_tv']:.3f})",
            ex["min_covered"] >= COVERAGE - 1e-9,
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: smollm2-135m, 40 prompts")
    ap.add_argument("--items", type=int, default=None, help="held-out prompts per model (default 200)")
    ap.add_argument("--models", default=None, help="comma-separated (default qwen2.5-0.5b,smollm2-135m)")
    ap.add_argument("--off-items", type=int, default=None, help="prompts for (b) (default 48)")
    ap.add_argument("--naive-items", type=int, default=None, help="prompts the naive side runs (default 30)")
    ap.add_argument("--calib-items", type=int, default=None, help="prompts per calibration pair (default 10)")
    ap.add_argument("--max-new-tokens", type=int, default=256, help="token cap for (a) and (b), both sides")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--max-branches", type=int, default=64, help="exact enumeration budget (runs default)")
    ap.add_argument("--json", type=Path, default=None, help="also write all numbers here")
    args = ap.parse_args()
    quick = {"items": 40, "models": "smollm2-135m", "off_items": 40, "naive_items": 12, "calib_items": 5}
    full = {
        "items": 200,
        "models": "qwen2.5-0.5b,smollm2-135m",
        "off_items": 48,
        "naive_items": 30,
        "calib_items": 10,
    }
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)

    load = os.getloadavg()
    start = time.perf_counter()
    results = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        results.append(bench_model(name, args))
        gc.collect()  # free one model's weights before the next loads
    load_after = os.getloadavg()
    print(
        f"\nbench_engine: {time.perf_counter() - start:.0f} s in all; load average (1/5/15 min) "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} before, {load_after[0]:.1f}/{load_after[1]:.1f}/"
        f"{load_after[2]:.1f} after, {os.cpu_count()} cores; token cap {args.max_new_tokens}, "
        f"batch size {args.batch_size}"
    )
    checks = [c for r in results for c in report(r)]
    print("\ntargets")
    for label, ok in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {label}")
    if args.json:
        meta = {"load_before": load, "load_after": load_after, "cores": os.cpu_count(), "args": vars(args)}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
