"""`inward run` of the quick demo's experiment with M2 on vLLM (`vllm/smollm2-135m`) against the same file on
the local engine: wall times, their ratio, and how many of the numbers in the two results.json agree.

    bash scripts/vllm-venv.sh && PYTHONPATH=src python benchmarks/bench_vllm_run.py [--out DIR] [--json]

Each run gets a fresh workspace under --out (default: a temporary folder), one after the other, so both see the
same machine; the vLLM run includes starting the server. About 13 minutes on 2 idle CPU cores. Timings follow
the machine's load: read the ratio, measured in one run, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from inward.experiments.demo import demo_config


def numbers(x: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every numeric leaf of a results.json, by its path."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from numbers(v, f"{path}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(x, int | float) and not isinstance(x, bool):
        yield path, float(x)


def run(out: Path, engine: str) -> tuple[float, dict[str, float]]:
    cfg = demo_config("quick").model_dump(mode="json", exclude_defaults=True)
    m2 = "vllm/smollm2-135m" if engine == "vllm" else "local/smollm2-135m"
    cfg["models"] = {"m1": "local/qwen2.5-0.5b", "m2": m2}
    exp = out / f"quick-{engine}.yaml"
    exp.write_text(yaml.safe_dump(cfg, sort_keys=False))
    ws = out / f"ws-{engine}"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inward", "--workspace", str(ws), "run", str(exp)], check=True)
    wall = time.perf_counter() - t0
    results = json.loads((ws / "runs" / cfg["name"] / "results.json").read_text())
    return wall, dict(numbers(results))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=None, help="folder for the two workspaces (default: temporary)"
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-vllm-run-"))
    out.mkdir(parents=True, exist_ok=True)
    t_local, local = run(out, "local")
    t_vllm, served = run(out, "vllm")
    common = sorted(set(local) & set(served))
    same = [p for p in common if local[p] == served[p] or (math.isnan(local[p]) and math.isnan(served[p]))]
    worst = max(
        (abs(local[p] - served[p]) / max(abs(local[p]), 1e-12) for p in common if p not in same), default=0
    )
    fig = {
        "local_s": round(t_local, 1),
        "vllm_s": round(t_vllm, 1),
        "ratio_vllm_over_local": round(t_vllm / t_local, 2),
        "numbers": len(common),
        "identical": len(same),
        "paths_in_one_only": len(set(local) ^ set(served)),
        "largest_relative_difference": worst,
    }
    if args.json:
        print(json.dumps(fig))
    else:
        print(
            f"quick experiment: local engine {t_local:.0f} s, M2 on vLLM {t_vllm:.0f} s, ratio {t_vllm / t_local:.2f}"
        )
        print(
            f"results.json: {len(same)}/{len(common)} numbers identical, largest relative difference {worst:.1e}"
        )


if __name__ == "__main__":
    main()
