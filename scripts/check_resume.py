"""Kill `inward run` at random moments and check that re-running gives the same results.json.

    python scripts/check_resume.py                 # 3 kills, the tiny experiment below, SmolLM2 as M1 and M2
    python scripts/check_resume.py --kills 5 --seed 1 --experiment my.yaml

Runs the experiment once uninterrupted (workspace A); then, `--kills` times, starts it in a fresh workspace,
SIGKILLs it (whole process group) at a random moment — one moment in each equal slice of the uninterrupted
run's duration, so early, middle and late steps are all hit — runs the same command again to completion, and
compares its results.json with A's byte for byte. Prints the step each kill hit and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = """\
name: resume-check
models: {m1: local/smollm2-135m, m2: local/smollm2-135m}
train_tasks: [colors_long, wealth_seeking]
eval_tasks: [animals_long, survival_instinct]
properties: [first_word, second_character, ethical_stance]
sizes: {train_items_per_task: 10, per_combo: 8, eval_items_per_task: 10, calibration_items: 6, shift_rows: 12}
calibration: [{task: animals_long, property: second_character}]
training: {m1: {checkpoint_every: 1}, m2: {checkpoint_every: 1}, shift: {checkpoint_every: 1, batch_size: 4}}
"""


def run(workspace: Path, experiment: Path, timeout: float | None = None) -> tuple[int | None, float]:
    env = {**os.environ, "INWARD_WORKSPACE": str(workspace)}
    t0 = time.perf_counter()
    with open(workspace / "log.txt", "a") as log:
        p = subprocess.Popen(
            [sys.executable, "-m", "inward", "run", str(experiment)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return p.wait(timeout=timeout), time.perf_counter() - t0
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return None, time.perf_counter() - t0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def last_step(log: Path) -> str:
    """The step the run was in when it stopped: the last "» step" line of its log."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.startswith("»")]
    return lines[-1].lstrip("» ") if lines else "(before the first step)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--experiment", type=Path)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="inward-resume-"))
    exp = args.experiment or root / "resume-check.yaml"
    if args.experiment is None:
        exp.write_text(TINY)
    a = root / "a"
    a.mkdir()
    rc, full = run(a, exp)
    assert rc == 0, f"uninterrupted run failed, see {a / 'log.txt'}"
    print(f"uninterrupted: {full:.0f} s")
    reference = next(a.glob("runs/*/results.json"))
    rng = random.Random(args.seed)
    ok = True
    for k in range(args.kills):
        # One moment in each of `kills` equal slices of the uninterrupted run: early, middle, late.
        delay = rng.uniform((k + 0.1) / args.kills, (k + 0.9) / args.kills) * full
        b = root / f"b{k + 1}"
        b.mkdir()
        rc, took = run(b, exp, timeout=delay)
        killed = rc is None
        where = last_step(b / "log.txt")
        rc, rest = run(b, exp)
        assert rc == 0, f"resumed run failed, see {b / 'log.txt'}"
        got = next(b.glob("runs/*/results.json"))
        same = got.read_bytes() == reference.read_bytes()
        ok &= same and killed
        print(
            f"kill {k + 1}: SIGKILL after {took:.0f} s in step {where!r} "
            f"{'' if killed else '(NOT killed: the run had finished) '}-> resumed in {rest:.0f} s, "
            f"results.json {digest(got)} {'identical' if same else 'DIFFERENT'}"
        )
        if not same:
            subprocess.run(["diff", str(reference), str(got)])
    print(f"uninterrupted results.json {digest(reference)} -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
