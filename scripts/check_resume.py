"""Kill `inward run` at random moments and check that re-running gives the same results.json.

    python scripts/check_resume.py                 # 3 kills, the tiny experiment below, SmolLM2 as M1 and M2
    python scripts/check_resume.py --kills 5 --seed 1 --experiment my.yaml

Runs the experiment once uninterrupted (workspace A), then in workspace B starts it, SIGKILLs it after a random
delay, starts it again, ... `--kills` times, lets the last run finish, and compares the two results.json files
byte for byte. Prints the kill times, which steps each restart found done, and PASS/FAIL.
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
    a, b = root / "a", root / "b"
    a.mkdir()
    b.mkdir()
    rc, full = run(a, exp)
    assert rc == 0, f"uninterrupted run failed, see {a / 'log.txt'}"
    print(f"uninterrupted: {full:.0f} s")
    rng = random.Random(args.seed)
    for k in range(args.kills):
        delay = rng.uniform(0.1, 0.9) * full
        rc, took = run(b, exp, timeout=delay)
        print(f"kill {k + 1}: after {took:.0f} s -> {'killed' if rc is None else f'finished (rc={rc})'}")
    rc, took = run(b, exp)
    assert rc == 0, f"final run failed, see {b / 'log.txt'}"
    print(f"final run: {took:.0f} s")
    name = "resume-check" if args.experiment is None else None
    ra = next(a.glob(f"runs/{name or '*'}/results.json"))
    rb = next(b.glob(f"runs/{name or '*'}/results.json"))
    same = ra.read_bytes() == rb.read_bytes()
    print(
        f"results.json A {digest(ra)}  B {digest(rb)}  -> {'PASS (identical)' if same else 'FAIL (different)'}"
    )
    if not same:
        subprocess.run(["diff", str(ra), str(rb)])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
