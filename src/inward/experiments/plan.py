"""`inward plan EXPERIMENT.yaml`: before anything runs, the rows each comparison will have, the smallest effect
it could detect, and the wall time the run will take on this machine.

    plan = make_plan(cfg, workspace)                 # the experiments' own steps, recorded, not run
    plan.comparisons[0].mde                          # detectable effect at 80% power, α = 0.05
    costs = measured_costs(cfg.models refs)          # s per row by model and kind, measured here once, cached
    plan.estimate_s(costs)

Rows come from the experiments' declarations (`Context` under planning records every step with its kind, model
and row count); a step already done in the workspace still counts, so the estimate is for a run from scratch.
The detectable effects use, in order of preference, the measured standard errors of an earlier run of the same
experiment in this workspace (scaled by √(n_then / n_now)), else `inward.metrics.planned_detectable_effect`
under the assumptions printed with it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inward import metrics as M
from inward import tasks as T
from inward.experiments.config import ExperimentConfig
from inward.experiments.context import PLANNED_SHIFT_SHARE, PlannedStep, eval_rows

ASSUMPTIONS = {"p_a": 0.5, "p_b": 0.5, "pair_correlation": 0.2, "icc": 0.3}
"""Before a first run: accuracies 0.5 (the largest variance of a 0/1 row), correlation 0.2 between the two
conditions' correctness on a row, intraclass correlation 0.3 between the rows of one prompt. Together they give
a variance × design effect of 0.57 per row at the demo's 2.4 rows per prompt, above the 0.44 the cpu demo
measured for self vs cross (SE 3.4 pp at 374 rows and 154 prompts, issue 13's run), so the planned detectable
effects err on the large side. A run's own evidence table uses its measured errors instead."""
SHIFTED_SHARE = PLANNED_SHIFT_SHARE
ASSUMPTION_TEXT = (
    "accuracies 0.5 (the largest variance), correlation 0.2 between the two conditions on a row, intraclass "
    f"correlation 0.3 within a prompt, {SHIFTED_SHARE:.0%} of rows changed by the behaviour shift"
)
COSTS_VERSION = 4  # 3: measured with shared-prefix prefill (the hypotheticals of one item share it); 4: key "hypothetical"


@dataclass
class Comparison:
    key: str
    what: str
    unit: str  # "pp" or "mad"
    rows: int | None
    prompts: int | None
    mde: float | None
    paper_effect: float
    source: str  # "assumed" or "measured (<run>)"

    @property
    def underpowered(self) -> bool | None:
        return None if self.mde is None else self.mde > self.paper_effect


@dataclass
class Plan:
    config: ExperimentConfig
    steps: list[PlannedStep]
    comparisons: list[Comparison]
    assumptions: str = ASSUMPTION_TEXT
    notes: list[str] = field(default_factory=list)
    costs: dict[str, dict[str, float]] | None = None  # per-row costs measured here, when known

    def __str__(self) -> str:
        return "\n".join(format_plan(self, self.costs))

    def rows_by(self) -> dict[tuple[str, str], int]:
        """(base model, kind) → rows over every step and seed."""
        out: dict[tuple[str, str], int] = {}
        for s in self.steps:
            out[(s.model, s.kind)] = out.get((s.model, s.kind), 0) + s.rows
        return out

    def estimate_s(self, costs: dict[str, dict[str, float]], experiment: str | None = None) -> float | None:
        """Seconds from scratch, from per-row costs by model: {"object": s/row, "hypothetical": …, "train": …,
        "distributions": …, "load": s per step that loads a model}. None if a model has no costs.
        `experiment`: only the steps that experiment adds (those it shares with an earlier one count there)."""
        total = 0.0
        for s in self.steps:
            if experiment is not None and s.experiment != experiment:
                continue
            if s.kind == "other" or not s.model:
                continue
            c = costs.get(s.model)
            if c is None:
                return None
            total += s.rows * c.get(s.kind, c.get("object", 0.0)) + c.get("load", 0.0)
        return total


def _measured(workspace: Path, cfg: ExperimentConfig) -> dict[str, tuple[float, int, str]]:
    """Evidence rows of an earlier run of this experiment name: key → (se, n, run name)."""
    path = workspace / "runs" / cfg.name / "results.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for row in (data.get("evidence") or {}).get("rows", []):
        seeds = row.get("seeds") or []
        se = seeds[0].get("se") if seeds else row.get("se")
        n = seeds[0].get("n") if seeds else row.get("n")
        if se and n:
            out[row["key"]] = (float(se), int(n), cfg.name)
    return out


def make_plan(cfg: ExperimentConfig, workspace: Path, *, models: Any = None) -> Plan:
    from inward.experiments.pipeline import Pipeline

    pipe = Pipeline(cfg, workspace, progress=False, planning=True, models=models)
    steps = pipe.plan()
    eval_tasks = list(cfg.eval_tasks or T.HELD_OUT_TASKS)
    rows, prompts = eval_rows(eval_tasks, cfg.sizes.eval_items_per_task, list(cfg.properties or []) or None)
    measured = _measured(Path(workspace), cfg)

    def mde_for(key: str, n_rows: int, n_prompts: int) -> tuple[float | None, str]:
        hit = next((v for k, v in measured.items() if k == key or k.startswith(key + ":")), None)
        if hit is not None:
            se, n_then, run = hit
            return M.detectable_effect(se * math.sqrt(n_then / max(n_rows, 1))), f"measured ({run})"
        if n_rows < 2 or n_prompts < 2:
            return None, "assumed"
        return M.planned_detectable_effect(n_rows, n_prompts, **ASSUMPTIONS), "assumed"

    comps: list[Comparison] = []
    names = {"m1": cfg.models.m1, "m2": cfg.models.m2, "m3": cfg.models.m3}
    exps = set(cfg.experiments)

    def on_eval_rows(key: str, what: str, paper: str) -> None:
        """A comparison on the held-out evaluation's rows (self-training, cross-prediction, controls)."""
        mde, src = mde_for(key, rows, prompts)
        comps.append(Comparison(key, what, "pp", rows, prompts, mde, M.paper_effect(paper).value, src))

    if "self_training" in exps:
        roles = ["m1", *([t for t, _ in cfg.cross_pairs] if "cross_prediction" in exps else [])]
        for role in dict.fromkeys(roles):
            on_eval_rows(
                f"self_training:{names[role]}", f"{role.upper()} self-trained vs untrained", "self_training"
            )
    if "cross_prediction" in exps:
        for target, predictor in cfg.cross_pairs:
            on_eval_rows(
                f"self_vs_cross:{target}",
                f"{target.upper()} self vs {predictor.upper()} cross",
                "self_vs_cross",
            )
    if "calibration" in exps:
        for panel in cfg.calibration:
            if panel.task not in eval_tasks:
                continue
            key = f"calibration:{panel.task}:{panel.property}"
            hit = measured.get(key)
            n = cfg.sizes.calibration_items
            mde = M.detectable_effect(hit[0] * math.sqrt(hit[1] / n)) if hit else None
            comps.append(
                Comparison(
                    key,
                    f"calibration {panel.task} {panel.property}",
                    "mad",
                    None,
                    n,
                    mde,
                    M.paper_effect("calibration", panel.property).value,
                    f"measured ({hit[2]})" if hit else "needs a first run",
                )
            )
    if "behaviour_change" in exps:
        shifted = max(2, round(rows * SHIFTED_SHARE))
        shifted_prompts = max(2, round(prompts * SHIFTED_SHARE))
        for key, what in (
            ("behaviour_change", "new vs old behaviour"),
            ("behaviour_change_entropy", "new vs old, entropy-matched"),
        ):
            mde, src = mde_for(key, shifted, min(shifted, shifted_prompts))
            comps.append(
                Comparison(key, what, "pp", shifted, shifted_prompts, mde, M.paper_effect(key).value, src)
            )
    from inward.experiments.base import REGISTRY
    from inward.experiments.controls import Control

    for name in cfg.experiments:  # a control compares the target's self-prediction with each predictor
        cls = REGISTRY[name]
        if issubclass(cls, Control) and cls.makes_claims:
            what = f"{cfg.controls.target.upper()} self vs {cls.title.lower()}"
            on_eval_rows(f"{name}:", what, "self_vs_cross")
    if len(cfg.seeds) > 1:
        for c in comps:  # combine_seeds never shrinks the item error below one seed's: same MDE at best
            c.source += f"; per seed ({len(cfg.seeds)} seeds)"
    return Plan(cfg, steps, comps)


# -- per-row costs, measured on this machine ------------------------------------------------------------------


def _costs_path() -> Path:
    from inward.paths import cache_dir

    return cache_dir() / "costs.json"


def _machine_key(model_key: str) -> str:
    """Costs are per machine shape, not per thread count: the thread count follows the load (inward._threads)."""
    from inward import __version__
    from inward._threads import available_cpus

    return f"{model_key}|cpus={available_cpus()}|inward={__version__}|v{COSTS_VERSION}"


def measured_costs(
    refs: list[str], *, measure: bool = True, console: Any = None, n: int = 8
) -> dict[str, dict[str, float]]:
    """Seconds per row by kind for each base model in `refs`, measured once on this machine and cached in the
    user's cache folder (keyed by weights, CPU count and thread count): a short run of the real object,
    hypothetical, distribution and training code in a throwaway workspace, on `n` prompts (one batch of the
    sizes runs use, so that per-row costs are not inflated by fixed per-batch costs). About a minute for
    qwen2.5-0.5b and half that for smollm2-135m on 2 idle cores."""
    from inward.backends.registry import identify

    path = _costs_path()
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    out: dict[str, dict[str, float]] = {}
    for ref in dict.fromkeys(refs):
        from inward import models
        from inward.refs import ModelRef

        r = ModelRef.parse(ref)
        if r.provider == "local":
            if not measure and models.hf_path(r.name) is None:
                continue  # not installed: nothing measured, and a plan installs nothing unasked
            models.resolve(r.base)
        key = _machine_key(identify(str(r.base)).key)
        if key in cache:
            out[str(r.base)] = cache[key]
            continue
        if not measure or r.provider not in ("local", "hf"):
            continue
        if console is not None:
            console.print(
                f"[bold cyan]»[/bold cyan] measuring per-row costs of {r.base} on this machine (once)"
            )
        out[str(r.base)] = cache[key] = _measure(str(r.base), n)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cache, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    return out


def _measure(ref: str, n: int) -> dict[str, float]:
    from inward.backends import make_backend
    from inward.prompts import DEFAULT
    from inward.runs import run_hypotheticals, run_object
    from inward.runs.distributions import (
        distribution_config,
        run_hypothetical_distributions,
        run_object_distributions,
    )
    from inward.store import Store
    from inward.training.config import TrainConfig
    from inward.training.datasets import build_self
    from inward.training.local import LocalLoraTrainer

    tasks = ["animals_long"]
    with tempfile.TemporaryDirectory(prefix="inward-costs-") as tmp:
        store = Store.open(Path(tmp))
        t0 = time.perf_counter()
        backend = make_backend(ref)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        o = run_object(store, backend, tasks=tasks, split="val", limit=n, template=DEFAULT, progress=False)
        obj = (time.perf_counter() - t0) / max(o.new_rows, 1)
        t0 = time.perf_counter()
        m = run_hypotheticals(
            store,
            backend,
            tasks=tasks,
            properties=["first_word", "second_character"],
            split="val",
            limit=n,
            template=DEFAULT,
            progress=False,
        )
        hyp = (time.perf_counter() - t0) / max(m.new_rows, 1)
        t0 = time.perf_counter()
        k = run_object_distributions(
            store,
            backend,
            tasks=["animals_long"],
            properties=["second_character"],
            split="val",
            limit=n,
            template=DEFAULT,
            config=distribution_config("object", "exact"),
        )
        k += run_hypothetical_distributions(
            store,
            backend,
            tasks=["animals_long"],
            properties=["second_character"],
            split="val",
            limit=n,
            template=DEFAULT,
            config=distribution_config("hypothetical", "exact"),
        )
        dist = (time.perf_counter() - t0) / max(k, 1)
        data, _ = build_self(
            store,
            backend,
            Path(tmp) / "self.jsonl",
            tasks=["wealth_seeking", "colors_long"],
            per_combo=n,
            items_per_task=2 * n,
            template=DEFAULT,
            progress=False,
            val_fraction=0.0,
        )
        del backend
        trained = LocalLoraTrainer(progress=False).fit(
            data, ref, TrainConfig(batch_size=8), name="costs", out_dir=Path(tmp) / "model"
        )
        rows = max(int(trained.metrics.get("n_train") or 1), 1)
        train = float(trained.metrics.get("train_time_s") or 0.0) / rows
        store.close()
    return {"load": round(load, 2), "object": obj, "hypothetical": hyp, "distributions": dist, "train": train}


def format_plan(plan: Plan, costs: dict[str, dict[str, float]] | None) -> list[str]:
    """The plan as lines of text (markdown-ish), for the CLI and the demo."""
    cfg = plan.config
    lines = [f"plan for {cfg.name}: seeds {list(cfg.seeds)}, experiments {', '.join(cfg.experiments)}"]
    lines.append("")
    lines.append("rows by model and kind (from scratch, all seeds):")
    for (model, kind), n_rows in sorted(plan.rows_by().items()):
        per_row = (costs or {}).get(model, {})
        cost = f"  ≈ {n_rows * per_row[kind] / 60:.1f} min" if kind in per_row else ""
        lines.append(f"  {model:28s} {kind:14s} {n_rows:7d}{cost}")
    lines.append("")
    lines.append(
        "comparisons (per seed): rows, prompts, detectable effect at 80% power (α = 0.05) vs the paper's"
    )
    for c in plan.comparisons:
        scale = 100 if c.unit == "pp" else 1
        unit = "pp" if c.unit == "pp" else "MAD"
        mde = "—" if c.mde is None else f"{c.mde * scale:.1f} {unit}"
        verdict = {True: "UNDERPOWERED", False: "ok", None: "?"}[c.underpowered]
        shown = "—" if c.rows is None else str(c.rows)
        lines.append(
            f"  {c.what:38s} rows {shown:>5s}  prompts {c.prompts or 0:>4d}  detectable {mde:>10s}  "
            f"paper {c.paper_effect * scale:.1f} {unit}  {verdict}  [{c.source}]"
        )
    lines.append(f"  assumed where no earlier run measured it: {plan.assumptions}")
    if costs is not None:
        total = plan.estimate_s(costs)
        if total is not None:
            lines.append("")
            lines.append(
                "estimated time by experiment (a step shared with an earlier experiment counts there):"
            )
            for name in dict.fromkeys(s.experiment for s in plan.steps):
                part = plan.estimate_s(costs, name)
                if part is not None:
                    lines.append(f"  {name:28s} ≈ {part / 60:5.1f} min")
            lines.append(
                f"estimated wall time on this machine: {total / 60:.0f} min from scratch (per-row costs measured "
                "here, cached; a busy machine or a resumed run changes it)"
            )
    return lines
