"""Torch thread count and OpenMP wait policy on a machine that is not idle: local decoding and LoRA training.

    PYTHONPATH=src python benchmarks/bench_threads.py           # 3 loads x threads 1, 2, auto (~5 min)
    PYTHONPATH=src python benchmarks/bench_threads.py --loads idle,busy0 --threads 1,2 --repeats 2
    PYTHONPATH=src python benchmarks/bench_threads.py --waits default,passive --workloads decode

Workloads (SmolLM2-135M, fp32, CPU), each timed in a fresh subprocess after the model is loaded and warmed up:
  decode: `make_backend("local/smollm2-135m").generate` greedy on `--prompts` object-level prompts (the first
          val items of the held-out tasks, `prompts.DEFAULT`), at most `--max-tokens` new tokens, batch 16.
  train:  `train_lora` on `--train-examples` hypothetical chat rows (as bench_train.py), batch 4, 1 epoch;
          the figure is its own training-loop time (model load and tokenisation excluded).
Loads, started by the subprocess before it loads anything and stopped after: idle (nothing), busy19
(`nice -n 19` Python busy loop, one core), busy0 (the same busy loop at ordinary priority, nice 0), half0 and
quarter0 (nice 0, busy 10 ms of every 20 ms / 5 ms of every 20 ms).
Threads: 1, 2 (INWARD_THREADS=n in the subprocess), auto (INWARD_THREADS unset: whatever inward chooses).
Waits: default (OMP_WAIT_POLICY unset), passive (OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep at once
instead of spinning); set in the subprocess's environment, before torch starts its thread pool.

Each thread/wait setting runs in its own subprocess, which goes through every load in turn; both orders rotate
from repeat to repeat, so that drifting noise from other work on the machine shows as spread between repeats
rather than as a difference between conditions. The table gives the median wall time per condition, its ratio
to idle / 2 threads / default wait and to 2 threads / default wait at the same load, every single time, and
the cores other processes used during each (the busy loop included, niced or not): a figure above the load's
own (0 idle, ~1 busy) means someone else's work shared the machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DUTY = (  # a busy loop that is busy `on` seconds, then sleeps `off`
    "import time\nwhile True:\n t = time.perf_counter() + {on}\n while time.perf_counter() < t: pass\n"
    " time.sleep({off})"
)
LOADS = {
    "idle": None,
    "busy19": ["nice", "-n", "19", sys.executable, "-c", "while True: pass"],
    "busy0": [sys.executable, "-c", "while True: pass"],
    "half0": [sys.executable, "-c", DUTY.format(on=0.01, off=0.01)],  # nice 0, busy half of the time
    "quarter0": [sys.executable, "-c", DUTY.format(on=0.005, off=0.015)],  # nice 0, a quarter
}
WAITS: dict[str, str | None] = {"default": None, "passive": "PASSIVE"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- child: every load, every workload, in this process ------------------------------------------------
class Window:
    """Wall and CPU time of a measurement, and the cores other processes (busy loop too) used meanwhile."""

    def __enter__(self) -> Window:
        self.stat, self.wall, self.cpu = _proc_stat(), time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        stat, self.wall_s = _proc_stat(), time.perf_counter() - self.wall
        self.cpu_s = time.process_time() - self.cpu
        self.others = float("nan")
        if stat and self.stat and stat[2] > self.stat[2]:  # busy, niced, total jiffies, CPUs; niced counted
            share = (stat[0] + stat[1] - self.stat[0] - self.stat[1]) / (stat[2] - self.stat[2])
            self.others = share * stat[3] - self.cpu_s / self.wall_s


def _proc_stat() -> tuple[float, float, float, int] | None:
    from inward._threads import _proc_stat

    return _proc_stat()


def decode(prompts: int, max_tokens: int) -> dict[str, Any]:
    import torch

    from inward import tasks as T
    from inward.backends import make_backend
    from inward.backends.base import GenerateConfig
    from inward.prompts import DEFAULT

    lm: Any = make_backend("local/smollm2-135m", device="cpu", batch_size=16)
    names = T.HELD_OUT_TASKS
    msgs = []
    for k, name in enumerate(names):
        task = T.get(name)
        count = prompts // len(names) + (k < prompts % len(names))
        msgs += [DEFAULT.object_messages(task, it) for it in task.items("val")[:count]]
    lm.generate(msgs[:2], GenerateConfig(max_tokens=2))  # warm up kernels and the thread pool
    with Window() as w:
        gens = lm.generate(msgs, GenerateConfig(max_tokens=max_tokens))
    tokens = sum(g[0].completion_tokens for g in gens)
    return {
        "wall_s": w.wall_s,
        "cpu_s": w.cpu_s,
        "others": w.others,
        "tokens": tokens,
        "torch_threads": torch.get_num_threads(),
    }


def train(examples: int) -> dict[str, Any]:
    import torch

    sys.path.insert(0, str(HERE))
    from bench_train import hypothetical_examples

    from inward.models.testing import smollm2_path
    from inward.training.config import TrainConfig
    from inward.training.lora import train_lora

    cfg = TrainConfig(batch_size=4, epochs=1, max_len=512, val_fraction=0.0)
    with tempfile.TemporaryDirectory() as tmp, Window() as w:
        r = train_lora(smollm2_path(), hypothetical_examples(examples), tmp, cfg, progress=False)
    # The loop's own time (load and tokenisation excluded); `others` covers the whole call.
    return {
        "wall_s": r.train_time_s,
        "cpu_s": w.cpu_s,
        "others": w.others,
        "steps": r.steps,
        "torch_threads": torch.get_num_threads(),
    }


def child(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for load in args.loads:
        cmd = LOADS[load]
        busy = subprocess.Popen(cmd) if cmd else None
        try:
            time.sleep(0.5 if busy else 0)  # the busy loop is running before anything is loaded or chosen
            for w in args.workloads:
                m = decode(args.prompts, args.max_tokens) if w == "decode" else train(args.train_examples)
                rows.append({"load": load, "workload": w, **m})
                log(
                    f"  {load:<6} {w:<6} {m['wall_s']:7.2f} s, torch threads {m['torch_threads']}, "
                    f"others busy on {m['others']:.2f} cores"
                )
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    return rows


# --- parent: thread/wait settings x loads, interleaved ---------------------------------------------------
def run_condition(
    args: argparse.Namespace, threads: str, wait: str, loads: list[str]
) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    for k in ("OMP_NUM_THREADS", "INWARD_THREADS", "OMP_WAIT_POLICY"):
        env.pop(k, None)
    if threads != "auto":
        env["INWARD_THREADS"] = threads
    policy = WAITS[wait]
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--loads",
        ",".join(loads),
        "--workloads",
        ",".join(args.workloads),
        "--prompts",
        str(args.prompts),
        "--max-tokens",
        str(args.max_tokens),
        "--train-examples",
        str(args.train_examples),
    ]
    log(f"threads={threads} wait={wait}")
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({threads=}, {wait=})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loads", default="idle,busy19,busy0", help=f"comma-separated of {','.join(LOADS)}")
    ap.add_argument("--threads", default="1,2,auto", help="comma-separated thread counts, or auto")
    ap.add_argument("--waits", default="default", help=f"comma-separated of {','.join(WAITS)}")
    ap.add_argument("--workloads", default="decode,train", help="comma-separated of decode,train")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--train-examples", type=int, default=8, help="training rows (batch 4: 2 steps)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per subprocess")
    ap.add_argument("--json", type=Path, default=None, help="also write every measurement here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    args.loads = loads = [x.strip() for x in args.loads.split(",") if x.strip()]
    if args.child:
        print(json.dumps(child(args)))
        return

    threads = [x.strip() for x in args.threads.split(",") if x.strip()]
    waits = [x.strip() for x in args.waits.split(",") if x.strip()]
    conds = list(itertools.product(threads, waits))
    start, load_before = time.perf_counter(), os.getloadavg()
    rows: list[dict[str, Any]] = []
    for rep in range(args.repeats):
        k = rep % len(conds)
        for th, wait in conds[k:] + conds[:k]:
            j = (rep + conds.index((th, wait))) % len(loads)
            for r in run_condition(args, th, wait, loads[j:] + loads[:j]):
                rows.append({"repeat": rep, "threads": th, "wait": wait, **r})
    load_after = os.getloadavg()

    def pick(load: str, th: str, wait: str, w: str) -> list[dict[str, Any]]:
        return [r for r in rows if (r["load"], r["threads"], r["wait"], r["workload"]) == (load, th, wait, w)]

    def med(load: str, th: str, wait: str, w: str) -> float | None:
        xs = [r["wall_s"] for r in pick(load, th, wait, w)]
        return statistics.median(xs) if xs else None

    ref_th = "2" if "2" in threads else threads[0]
    print(
        f"\nbench_threads: {time.perf_counter() - start:.0f} s in all, {args.repeats} repeat(s); "
        f"{os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"(1 min; includes this run and its busy loops)"
    )
    print(
        f"decode: {args.prompts} prompts, <= {args.max_tokens} new tokens, greedy, batch 16; train: "
        f"{args.train_examples} rows, batch 4, loop time. 'vs idle' = median / median at idle, "
        f"{ref_th} threads, "
        f"default wait; 'vs {ref_th}t' = median / median at the same load, {ref_th} threads, default wait "
        f"(>1 is slower). 'others' = cores other processes (the busy loop included) used during each run."
    )
    for w in args.workloads:
        ref = med("idle", ref_th, "default", w)
        print(
            f"\n{w:<7} {'load':<7} {'threads':<9} {'wait':<8} {'median s':>9} {'vs idle':>8} "
            f"{'vs ' + ref_th + 't':>7}  each s (others)"
        )
        for load in loads:
            same = med(load, ref_th, "default", w)
            for th, wait in conds:
                got = pick(load, th, wait, w)
                m = med(load, th, wait, w)
                if m is None:
                    continue
                vs_idle = f"{m / ref:7.2f}x" if ref else "     n/a"
                vs_same = f"{m / same:6.2f}x" if same else "    n/a"
                label = (
                    th if th != "auto" else "auto=" + "/".join(sorted({str(r["torch_threads"]) for r in got}))
                )
                each = " ".join(f"{r['wall_s']:.1f} ({r['others']:.1f})" for r in got)
                print(f"{'':<7} {load:<7} {label:<9} {wait:<8} {m:9.2f} {vs_idle:>8} {vs_same:>7}  {each}")
    if args.json:
        meta = {
            "load_before": load_before,
            "load_after": load_after,
            "args": {**vars(args), "json": str(args.json)},
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
