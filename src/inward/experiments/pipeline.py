"""Resumable experiment pipelines over the store: the paper's four results end to end.

    cfg = load_config("demo.yaml")
    results = Pipeline(cfg, workspace).run()     # Ctrl-C, then the same call, continues where it stopped

Every step is content-addressed: its key hashes the step name with everything it depends on (config values,
input files, and the *identity* of every model it reads or asks: weights and adapter digests, not the ref string),
and its output is recorded in the store's `steps` table when it finishes. Trained adapters are named by a digest
of their training inputs (`<run>-<label>-<digest>`), so a changed training setting trains a new adapter beside
the old one, and every step downstream of it sees a new identity and runs again. Steps below the pipeline
(object runs, hypothetical runs, training) are themselves resumable, so a step killed half-way loses little.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend
from inward.errors import UserError
from inward.experiments.config import ExperimentConfig, Training
from inward.experiments.models import LocalModels, ModelAccess
from inward.prompts import get as get_template
from inward.refs import ModelRef

StepFn = Callable[[], dict[str, Any]]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


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


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class Pipeline:
    """Runs the configured experiments; `run()` returns the results dict that `results.json` holds."""

    def __init__(
        self,
        config: ExperimentConfig,
        workspace: Path,
        *,
        console: Any = None,
        progress: bool = True,
        models: Callable[[Any], ModelAccess] | None = None,
    ) -> None:
        """`models` builds the `ModelAccess` from the store (default `LocalModels` with `config.backend`)."""
        from inward.store import Store, provenance

        self.cfg = config
        self.workspace = Path(workspace)
        self.store = Store.open(self.workspace)
        self.run_dir = self.workspace / "runs" / config.name
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_id = f"{config.name}-{_digest(config.model_dump(mode='json'))}"
        self.console = console
        self.progress = progress
        self.template = get_template(config.template)
        self.train_tasks = list(config.train_tasks or T.TRAINING_TASKS)
        self.eval_tasks = list(config.eval_tasks or T.HELD_OUT_TASKS)
        # Canonical names of the configured properties (the config accepts aliases); None = all.
        self.property_names = [P.get(name).name for name in config.properties] if config.properties else None
        from inward.metrics import rules_for

        self.rules = rules_for(config.paper_code)
        self.trained: dict[str, dict[str, Any]] = {}
        self.evaluated: set[str] = set()  # every model whose behaviour or hypotheticals entered a number
        self._t_start = time.perf_counter()
        # Wall-clock figures accumulate over every call of an interrupted-and-resumed run (see save_timings).
        prior = _read_json(self.run_dir / "timings.json")
        if prior.get("run_id") != self.run_id:
            prior = {}
        self._prior_wall = float(prior.get("wall_s", 0.0))
        self._calls = int(prior.get("calls", 0)) + 1
        self._prior_training: dict[str, Any] = dict(prior.get("training", {}))
        self.timings: dict[str, float] = dict(prior.get("steps_s", {}))
        self.models: ModelAccess = (
            models(self.store) if models is not None else LocalModels(self.store, dict(config.backend))
        )
        self.store.start_run(
            run_id=self.run_id,
            kind="experiment",
            name=config.name,
            config=config.model_dump(mode="json"),
            provenance=provenance(),
        )

    # -- plumbing ----------------------------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        if self.console is not None:
            self.console.print(f"[bold cyan]»[/bold cyan] {msg}")

    def step(self, name: str, inputs: dict[str, Any], fn: StepFn) -> dict[str, Any]:
        key = f"{name}:{_digest(inputs)}"
        done = self.store.step_done(self.run_id, key)
        if done is not None:
            return dict(done["output"] or {})
        self.log(name)
        t0 = time.perf_counter()
        self.store.mark_step(self.run_id, key, "running", None)
        out = fn()
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 1)
        self.store.mark_step(self.run_id, key, "done", out)
        self.save_timings()
        return out

    def save_timings(self, extra: dict[str, float] | None = None) -> dict[str, Any]:
        """timings.json beside the results: wall time summed over all calls of this run (a killed call counts
        up to its last finished step), seconds per step name, and training wall time and examples/s. Kept out
        of results.json so that the results of a resumed run are byte-identical to an uninterrupted one."""
        self.timings.update(extra or {})
        timings = {
            "run_id": self.run_id,
            "calls": self._calls,
            "wall_s": round(self._prior_wall + time.perf_counter() - self._t_start, 1),
            "steps_s": dict(self.timings),
            "training": {
                **self._prior_training,
                **{
                    rec["name"]: {"wall_s": rec["train_time_s"], "examples_per_s": rec["examples_per_s"]}
                    for rec in self.trained.values()
                },
            },
        }
        write_json_atomic(self.run_dir / "timings.json", timings)
        return timings

    def backend(self, ref: str) -> Backend:
        """Backends are loaded lazily (see `LocalModels`)."""
        return self.models.backend(ref)

    def model_id(self, ref: str) -> Any:
        """`ref`'s identity (`inward.backends.identity.ModelId`), from the files on disk: never stale."""
        return self.models.identify(ref)

    def object_config(self, ref: str) -> Any:
        """The object config (`inward.runs.configs.ObjectConfig`) of `ref`'s behaviour in this experiment."""
        return self.cfg.object_level.for_model(ref)

    def identity_inputs(self, *refs: str) -> dict[str, str]:
        """What a step that reads or asks these models depends on: each one's identity and object config."""
        return {ref: f"{self.model_id(ref).key}/{self.object_config(ref).key()}" for ref in refs}

    def release_backends(self) -> None:
        self.models.release()

    # -- building blocks ---------------------------------------------------------------------------------------

    def train(
        self, label: str, base: str, data: Path, plan: Training, *, init_adapter: str | None = None
    ) -> str:
        """Fine-tune `base` on `data` as model `<run>-<label>-<digest of the inputs>`; returns its ModelRef.

        The name carries the digest so that changed inputs (settings, data, base or initial adapter) train a new
        adapter instead of resuming, reusing or overwriting the old one."""
        inputs = {
            "base": base,
            "base_id": self.model_id(base).key,
            "data": file_digest(data),
            "plan": plan.model_dump(),
            "init": init_adapter,
            "init_id": None if init_adapter is None else self.model_id(f"{base}+adapter={init_adapter}").key,
            "seed": self.cfg.seed,
        }
        name = f"{self.cfg.name}-{label}-{_digest(inputs)[:6]}"

        def fn() -> dict[str, Any]:
            rec = self.models.train(
                name=name,
                base=base,
                data=data,
                plan=plan.model_dump(),
                seed=self.cfg.seed,
                init_adapter=init_adapter,
                progress=self.progress,
            )
            return rec

        out = self.step(f"train {label}", inputs, fn)
        self.trained[label] = out
        return str(out["ref"])

    def evaluate(
        self,
        object_model: str,
        meta_model: str,
        tasks: list[str],
        limit: int,
        *,
        changed_from: str | None = None,
    ) -> None:
        """Object level for `object_model`, then hypotheticals of `meta_model` about it, on held-out val items.

        With `changed_from` (a model already evaluated on the same items), hypotheticals are asked only where
        `object_model`'s property value differs from that model's: the prompts the behaviour-change analysis
        scores (SPEC §12). The others would cost most of the step and enter no number."""
        from inward.runs import run_meta

        def fn() -> dict[str, Any]:
            o = self._objects(object_model, tasks, limit)
            only = None if changed_from is None else self.changed_keys(changed_from, object_model, tasks)
            m = run_meta(
                self.store,
                self.backend(meta_model),
                tasks=tasks,
                about=self.model_id(object_model),
                split="val",
                limit=limit,
                template=self.template,
                properties=self.cfg.properties,
                object_config=self.object_config(object_model),
                progress=self.progress,
                only=only,
                include_undefined=self.cfg.paper_code,
            )
            return {"object_rows": o.new_rows + o.existing_rows, "meta_rows": m.new_rows + m.existing_rows}

        models = [object_model, meta_model, *([changed_from] if changed_from else [])]
        self.evaluated.update(models)
        self.step(
            f"evaluate {meta_model} about {object_model}",
            {
                "o": object_model,
                "m": meta_model,
                "t": tasks,
                "n": limit,
                "tpl": self.template.name,
                "p": self.cfg.properties,
                "ids": self.identity_inputs(*models),
                **({"changed_from": changed_from} if changed_from else {}),
                **({"paper_code": True} if self.cfg.paper_code else {}),
            },
            fn,
        )

    def changed_keys(self, old_model: str, new_model: str, tasks: list[str]) -> set[tuple[str, str, str]]:
        """(task, item id, property) of the configured properties where the two models' values differ."""
        from inward.experiments.analyses import object_tables
        from inward.metrics import shifted_prompts

        sh = shifted_prompts(*object_tables(self, old_model, new_model, tasks=tasks))
        keep = self.property_names
        return {
            (t, i, p)
            for t, i, p in zip(sh["task"], sh["item_id"], sh["property"], strict=True)
            if keep is None or p in keep
        }

    # -- the four experiments ------------------------------------------------------------------------------

    def label(self, ref: str) -> str:
        """Short display names: m1, m2, m1-self, m2-cross-m1, m1-shifted."""
        r = ModelRef.parse(ref)
        base = {self.cfg.models.m2: "M2", self.cfg.models.m1: "M1"}.get(str(r.base), r.name)  # M1 wins a tie
        if r.adapter is None:
            return f"{base} ({r.name})"
        adapter = r.adapter.removeprefix(self.cfg.name + "-")
        stem, dash, digest = adapter.rpartition("-")
        if dash and len(digest) == 6 and all(c in "0123456789abcdef" for c in digest):
            adapter = stem  # the inputs digest of a pipeline-trained adapter: not for people
        return f"{base} ({r.name}) + {adapter}"

    def run(self) -> Any:
        """Runs every configured experiment; returns `inward.report.Results` (what results.json holds)."""
        from inward.experiments import analyses
        from inward.report.results import Results, RunInfo

        c = self.cfg
        results: dict[str, Any] = {}
        want = set(c.experiments)
        n_eval = c.sizes.eval_items_per_task
        m1, m2 = c.models.m1, c.models.m2
        m1t = self.self_train("m1", m1, c.training.m1)
        if "self_training" in want:
            self.evaluate(m1, m1, self.eval_tasks, n_eval)
            self.evaluate(m1t, m1t, self.eval_tasks, n_eval)
            results["self_training"] = analyses.self_training(self, [(m1, m1t, "m1")])
        if want & {"cross_prediction", "calibration"}:
            m2c = self.cross_train("m2", m2, m1t, "m1", c.training.m2)
            self.evaluate(m1t, m1t, self.eval_tasks, n_eval)
            self.evaluate(m1t, m2c, self.eval_tasks, n_eval)
            pairs = [(m1t, m2c, "m1", "m2")]
            if c.cross_both_directions:
                m2t = self.self_train("m2", m2, c.training.m2)
                m1c = self.cross_train("m1", m1, m2t, "m2", c.training.m1)
                self.evaluate(m2t, m2t, self.eval_tasks, n_eval)
                self.evaluate(m2t, m1c, self.eval_tasks, n_eval)
                pairs.append((m2t, m1c, "m2", "m1"))
            if "cross_prediction" in want:
                results["cross_prediction"] = analyses.cross_prediction(self, pairs)
            if "calibration" in want:
                results["calibration"] = analyses.calibration(self, m1=m1, m1t=m1t, m2c=m2c)
        if "behaviour_change" in want:
            results["behaviour_change"] = self.behaviour_change(m1t)
        run = self.store.get_run(self.run_id)
        prov = {
            k: v for k, v in dict(run.provenance if run else {}).items() if k not in ("timestamp", "created")
        }
        models = sorted({m for m in self.evaluated if m})
        prov["scoring_rules"] = self.rules.as_dict()
        prov["models"] = {
            m: {"id": self.model_id(m).key, "object_config": self.object_config(m).name} for m in models
        }
        info = RunInfo(
            name=c.name,
            run_id=self.run_id,
            config=c.model_dump(mode="json"),
            provenance=prov,
            sizes=c.sizes.model_dump(),
            notes=self.notes(),
        )
        return Results(run=info, **results)

    def notes(self) -> list[str]:
        return [
            "Offline task items are generated or authored by inward, not the paper's datasets.",
            "Sizes are far below the paper's (~1,000 pairs per task/property; see sizes): read effects with their CIs.",
            "Early-stopped object-level answers: properties are exact; compliance is judged on the generated prefix.",
        ]

    def self_train(self, label: str, base: str, plan: Training) -> str:
        from inward.training.datasets import build_self

        data = self.run_dir / "data" / f"{label}-self.jsonl"
        sz = self.cfg.sizes

        def fn() -> dict[str, Any]:
            path, val = build_self(
                self.store,
                self.backend(base),
                data,
                tasks=self.train_tasks,
                properties=self.cfg.properties,
                per_combo=sz.per_combo,
                items_per_task=sz.train_items_per_task,
                seed=self.cfg.seed,
                template=self.template,
                progress=self.progress,
                object_config=self.object_config(base),
            )
            return {"path": str(path), "val": str(val) if val else None, "digest": file_digest(path)}

        ds = self.step(
            f"dataset self {label}",
            {
                "base": base,
                "tasks": self.train_tasks,
                "sizes": sz.model_dump(),
                "p": self.cfg.properties,
                "seed": self.cfg.seed,
                "tpl": self.template.name,
                "ids": self.identity_inputs(base),
            },
            fn,
        )
        return self.train(f"{label}-self", base, Path(ds["path"]), plan)

    def cross_train(self, label: str, base: str, about: str, about_label: str, plan: Training) -> str:
        from inward.training.datasets import build_cross

        like = self.run_dir / "data" / f"{about_label}-self.jsonl"
        data = self.run_dir / "data" / f"{label}-cross-{about_label}.jsonl"

        def fn() -> dict[str, Any]:
            path = build_cross(
                self.store,
                self.backend(about),
                like,
                data,
                template=self.template,
                progress=self.progress,
                object_config=self.object_config(about),
            )
            return {"path": str(path), "digest": file_digest(path)}

        ds = self.step(
            f"dataset cross {label} on {about_label}",
            {"about": about, "like": file_digest(like), "ids": self.identity_inputs(about)},
            fn,
        )
        return self.train(f"{label}-cross-{about_label}", base, Path(ds["path"]), plan)

    def behaviour_change(self, m1t: str) -> Any:
        from inward.experiments import analyses
        from inward.training.datasets import build_shift

        c = self.cfg
        source = c.models.shift_source or c.models.m2
        data = self.run_dir / "data" / "m1-shift.jsonl"

        def fn() -> dict[str, Any]:
            path = build_shift(
                self.store,
                self.backend(m1t),
                self.backend(source),
                data,
                tasks=self.eval_tasks,
                n=c.sizes.shift_rows,
                self_distill_fraction=c.sizes.shift_self_distill,
                keep_same=c.sizes.shift_keep_same,
                seed=c.seed,
                template=self.template,
                progress=self.progress,
            )
            return {"path": str(path), "digest": file_digest(path)}

        ds = self.step(
            "dataset shift m1",
            {
                "m1t": m1t,
                "source": source,
                "sizes": c.sizes.model_dump(),
                "seed": c.seed,
                "ids": self.identity_inputs(m1t, source),
            },
            fn,
        )
        adapter = ModelRef.parse(m1t).adapter
        if adapter is None:
            raise UserError("behaviour change needs a self-trained M1 with an adapter")
        mc = self.train(
            "m1-shifted",
            ModelRef.parse(m1t).base.__str__(),
            Path(ds["path"]),
            c.training.shift,
            init_adapter=adapter,
        )
        n_eval = c.sizes.eval_items_per_task
        self.evaluate(m1t, m1t, self.eval_tasks, n_eval)
        self.evaluate(mc, mc, self.eval_tasks, n_eval, changed_from=m1t)
        # Collateral check: the same models' answers on tasks the shift never saw (object level only).
        wanted = self.train_tasks if c.collateral_tasks is None else c.collateral_tasks
        unrelated = [t for t in wanted if t not in self.eval_tasks]
        for model in (m1t, mc) if unrelated else ():
            self.answer(model, unrelated, n_eval)
        return analyses.behaviour_change(self, m1t=m1t, mc=mc, source=source, unrelated=unrelated)

    def _objects(self, model: str, tasks: list[str], limit: int) -> Any:
        """`model`'s object-level answers on the first `limit` val items of each task (stored, reused)."""
        from inward.runs import run_object

        return run_object(
            self.store,
            self.backend(model),
            tasks=tasks,
            split="val",
            limit=limit,
            template=self.template,
            config=self.object_config(model),
            progress=self.progress,
        )

    def answer(self, model: str, tasks: list[str], limit: int) -> None:
        """Object-level answers only, on val items (no hypotheticals)."""

        def fn() -> dict[str, Any]:
            o = self._objects(model, tasks, limit)
            return {"object_rows": o.new_rows + o.existing_rows}

        self.step(
            f"answer {model}",
            {
                "o": model,
                "t": tasks,
                "n": limit,
                "tpl": self.template.name,
                "ids": self.identity_inputs(model),
            },
            fn,
        )
