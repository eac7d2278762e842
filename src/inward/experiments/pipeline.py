"""Run the configured experiments over every training seed: steps, analyses, evidence, results.

    cfg = load_config("demo.yaml")
    results = Pipeline(cfg, workspace).run()     # Ctrl-C, then the same call, continues where it stopped
    steps = Pipeline(cfg, workspace).plan()      # what would run, with row counts; nothing runs

Each experiment is a module (`inward.experiments.base.Experiment`): the pipeline gives it a `Context` per seed,
runs its steps (content-addressed and resumable, see `inward.experiments.context`), then its analysis, then
turns the claims of every seed into the evidence table (`inward.experiments.evidence`). The sections of the
first seed fill the typed fields of `Results`; with more seeds, every seed's sections are kept as well and each
headline number is reported as mean, spread and per-seed values.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inward.experiments.base import Experiment, Number, Sections
from inward.experiments.config import ExperimentConfig
from inward.experiments.context import Context, PlannedStep, Steps, digest
from inward.experiments.models import LocalModels, ModelAccess
from inward.prompts import get as get_template

TYPED = ("self_training", "cross_prediction", "calibration", "behaviour_change")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write `obj` as JSON so that a reader sees the old file or the new one, never a partial one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


class Pipeline:
    """Runs the configured experiments; `run()` returns the results that `results.json` holds."""

    def __init__(
        self,
        config: ExperimentConfig,
        workspace: Path,
        *,
        console: Any = None,
        progress: bool = True,
        models: Callable[[Any], ModelAccess] | None = None,
        planning: bool = False,
    ) -> None:
        """`models` builds the `ModelAccess` from the store (default `LocalModels` with `config.backend`).
        `planning`: record the steps instead of running them (`plan()`); nothing is written but the store."""
        from inward.experiments import registry
        from inward.metrics import rules_for
        from inward.store import Store, provenance

        self.cfg = config
        self.workspace = Path(workspace)
        self.store = Store.open(self.workspace)
        self.run_dir = self.workspace / "runs" / config.name
        self.run_id = f"{config.name}-{digest(config.model_dump(mode='json'))}"
        self.console = console
        self.progress = progress
        self.template = get_template(config.template)
        self.rules = rules_for(config.paper_code)
        self.experiments: list[Experiment] = registry.ordered(config.experiments)
        self.steps = Steps(self.store, self.run_id, log=self.log, planning=planning)
        self.steps.on_step = self._after_step
        self.models: ModelAccess = (
            models(self.store)
            if models is not None
            else LocalModels(self.store, {**config.backend, "vllm": config.vllm})
        )
        self.contexts: list[Context] = []
        self._t_start = time.perf_counter()
        if planning:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Wall-clock figures accumulate over every call of an interrupted-and-resumed run (see save_timings).
        prior = _read_json(self.run_dir / "timings.json")
        if prior.get("run_id") != self.run_id:
            prior = {}
        self._prior_wall = float(prior.get("wall_s", 0.0))
        self._calls = int(prior.get("calls", 0)) + 1
        self._prior_training: dict[str, Any] = dict(prior.get("training", {}))
        self.steps.timings.update(prior.get("steps_s", {}))
        from inward.experiments.context import TRAINED_SCOPE

        if self.store.get_run(TRAINED_SCOPE) is None:
            self.store.start_run(run_id=TRAINED_SCOPE, kind="models", name="trained models", config={})
        self.store.start_run(
            run_id=self.run_id,
            kind="experiment",
            name=config.name,
            config=config.model_dump(mode="json"),
            provenance=provenance(),
        )

    def log(self, msg: str) -> None:
        if self.console is not None:
            self.console.print(f"[bold cyan]»[/bold cyan] {msg}")

    def context(self, seed: int) -> Context:
        ctx = Context(
            self.cfg,
            seed=seed,
            workspace=self.workspace,
            run_dir=self.run_dir,
            steps=self.steps,
            models=self.models,
            template=self.template,
            rules=self.rules,
            progress=self.progress,
        )
        self.contexts.append(ctx)
        return ctx

    def _after_step(self) -> None:
        if not self.steps.planning:
            self.save_timings()

    def save_timings(self, extra: dict[str, float] | None = None) -> dict[str, Any]:
        """timings.json beside the results: wall time summed over all calls of this run (a killed call counts
        up to its last finished step), seconds per step name, and training wall time and examples/s. Kept out
        of results.json so that the results of a resumed run are byte-identical to an uninterrupted one."""
        self.steps.timings.update(extra or {})
        trained = {rec["name"]: rec for ctx in self.contexts for rec in ctx.trained.values()}
        timings = {
            "run_id": self.run_id,
            "calls": self._calls,
            "wall_s": round(self._prior_wall + time.perf_counter() - self._t_start, 1),
            "steps_s": dict(self.steps.timings),
            "training": {
                **self._prior_training,
                **{
                    name: {"wall_s": rec["train_time_s"], "examples_per_s": rec["examples_per_s"]}
                    for name, rec in trained.items()
                },
            },
        }
        write_json_atomic(self.run_dir / "timings.json", timings)
        return timings

    # -- running --------------------------------------------------------------------------------------------

    def _seeds(self) -> list[int]:
        return list(self.cfg.seeds)

    def plan(self) -> list[PlannedStep]:
        """Every step the run would take from scratch, in order, with its kind, model and rows (nothing runs)."""
        if not self.steps.planning:
            raise RuntimeError("plan() needs Pipeline(..., planning=True)")
        for seed in self._seeds():
            ctx = self.context(seed)
            for exp in self.experiments:
                if exp.training_dependent or seed == self._seeds()[0]:
                    self.steps.current = exp.name
                    exp.steps(ctx)
        return list(self.steps.planned)

    def run(self) -> Any:
        """Runs every configured experiment for every seed; returns `inward.report.Results`."""
        from inward.experiments import evidence
        from inward.report.results import ControlSection, Results, RunInfo, SeedRun

        per_seed: list[Sections] = []
        for i, seed in enumerate(self._seeds()):
            ctx = self.context(seed)
            exps = [e for e in self.experiments if e.training_dependent or i == 0]
            done = {e.name: e.steps(ctx) for e in exps}
            per_seed.append(Sections(seed, {e.name: e.analyse(ctx, done[e.name]) for e in exps}))
        first = per_seed[0].by_name
        c = self.cfg
        run = self.store.get_run(self.run_id)
        prov = {
            k: v for k, v in dict(run.provenance if run else {}).items() if k not in ("timestamp", "created")
        }
        evaluated = sorted({m for ctx in self.contexts for m in ctx.evaluated if m})
        first_ctx = self.contexts[0]
        prov["scoring_rules"] = self.rules.as_dict()
        prov["models"] = {
            m: {"id": first_ctx.model_id(m).key, "object_config": first_ctx.object_config(m).name}
            for m in evaluated
        }
        info = RunInfo(
            name=c.name,
            run_id=self.run_id,
            config=c.model_dump(mode="json"),
            provenance=prov,
            sizes=c.sizes.model_dump(),
            notes=self.notes(),
        )
        multi = len(per_seed) > 1
        return Results(
            run=info,
            **{name: first.get(name) for name in TYPED},
            controls=_controls(first),
            hygiene=self.hygiene(),
            other={
                e.name: first[e.name].model_dump(mode="json")
                for e in self.experiments
                if e.name not in TYPED and e.name in first and not isinstance(first[e.name], ControlSection)
            },
            evidence=evidence.table(self.experiments, per_seed),
            seeds=[s.seed for s in per_seed],
            seed_runs=[
                SeedRun(seed=s.seed, controls=_controls(s.by_name), **{n: s.by_name.get(n) for n in TYPED})
                for s in per_seed
            ]
            if multi
            else [],
            seed_numbers=seed_numbers(self.experiments, per_seed) if multi else [],
        )

    def hygiene(self) -> list[Any]:
        from inward.experiments import hygiene

        n_val = max(self.cfg.sizes.eval_items_per_task, self.cfg.sizes.calibration_items)
        checks = hygiene.check(self.run_dir / "data", self.contexts[0].eval_tasks, n_val)
        for c in checks:
            self.log(f"data hygiene: {c.check}: {'ok' if c.ok else 'FAILED'} ({c.detail})")
        return checks

    def notes(self) -> list[str]:
        notes = [
            "Offline task items are generated or authored by inward, not the paper's datasets.",
            "Sizes are far below the paper's (~1,000 pairs per task/property; see sizes): read effects with their CIs.",
            "Early-stopped object-level answers: properties are exact; compliance is judged on the generated prefix.",
        ]
        if len(self.cfg.seeds) > 1:
            notes.append(
                f"Training-dependent experiments ran once per seed ({', '.join(map(str, self.cfg.seeds))}), each "
                "with its own training seed and its own draw of training and shift items; the sections shown are "
                f"seed {self.cfg.seeds[0]}'s, the evidence table and the seed table combine all of them."
            )
        return notes


def _controls(sections: dict[str, Any]) -> dict[str, Any]:
    from inward.report.results import ControlSection

    return {name: sec for name, sec in sections.items() if isinstance(sec, ControlSection)}


def seed_numbers(experiments: list[Experiment], per_seed: list[Sections]) -> list[Any]:
    """Each experiment's headline numbers over seeds: mean, sample sd, per-seed values."""
    from statistics import mean, stdev

    from inward.report.results import SeedNumber

    table: dict[tuple[str, str], dict[int, Number]] = {}
    for s in per_seed:
        for e in experiments:
            if e.name in s.by_name:
                for num in e.numbers(s.by_name[e.name]):
                    table.setdefault((e.name, num.name), {})[s.seed] = num
    out = []
    for (exp, name), by_seed in table.items():
        vals = [n.value for n in by_seed.values() if n.value is not None]
        out.append(
            SeedNumber(
                name=name,
                experiment=exp,
                unit=next(iter(by_seed.values())).unit,
                mean=mean(vals) if vals else None,
                sd=stdev(vals) if len(vals) > 1 else None,
                values={str(seed): n.value for seed, n in by_seed.items()},
            )
        )
    return out
