"""The building blocks experiments are made of, for one training seed: steps over the store.

    ctx.self_trained("m1")                 # dataset of M1's own behaviour + LoRA (or hosted) fine-tune → ref
    ctx.cross_trained("m1", "m2")          # M2 trained on the self-trained M1's behaviour → ref
    ctx.evaluate(object_model, hypothetical_model) # object level, then hypotheticals about it, on held-out val items
    ctx.shifted()                          # M1 fine-tuned on another model's answers (behaviour change) → ref

Every block is a content-addressed step: its key hashes the step name with everything it depends on (config
values, input files and the *identity* of every model it reads or asks: weights and adapter digests, not the
ref string), and its output is recorded in the store's `steps` table when it finishes, so a killed run resumes
where it stopped and a changed setting reruns exactly the steps it reaches. Trained models are named by a digest
of their training inputs (`<run>-<label>-<digest>`), so a changed setting or seed trains a new one. Blocks are
memoised per context: experiments that share M1's self-training share one step.

Training goes through the `Trainer` protocol (`inward.training`): local LoRA for local models, the OpenAI
fine-tuning API for OpenAI ones, or whatever the `ModelAccess` hands out.

With `planning=True` nothing runs: every block records a `PlannedStep` (its kind, model and row count) and
returns a placeholder, which is how `inward plan` reads an experiment's own declaration.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend
from inward.backends.identity import ModelId
from inward.experiments.config import ExperimentConfig, Training
from inward.experiments.models import ModelAccess
from inward.experiments.readings import Readings
from inward.prompts import PromptTemplate
from inward.refs import ModelRef

StepFn = Callable[[], dict[str, Any]]
PLANNED_SHIFT_SHARE = 0.2  # share of held-out rows a behaviour shift changes, before a run has measured it
# The shift set costs far more than its size: both models answer whole (no early stop) every prompt examined,
# and source answers equal to M1's are skipped. Measured on the cpu demo: 378 s for 40 rows, the cost of about
# 13 early-stopped qwen2.5-0.5b object rows per shift row; 12 is what the plan counts per row.
SHIFT_COST_ROWS = 12
TRAINED_SCOPE = "trained-models"  # the step namespace trained models share across runs
StepKind = Literal["object", "hypothetical", "train", "dataset", "distributions", "other"]


def eval_rows(tasks: list[str], limit: int | None, properties: list[str] | None) -> tuple[int, int]:
    """(scored rows, prompts) of an evaluation on the first `limit` val items of each task: a row per prompt
    and property (`properties`: canonical names, None = all of a task's)."""
    rows = prompts = 0
    for name in tasks:
        t = T.get(name)
        k = len(t.items("val")[:limit]) if limit else len(t.items("val"))
        prompts += k
        rows += k * len([p for p in t.properties if properties is None or p in properties])
    return rows, prompts


def template_digest(template: PromptTemplate, tasks: list[str]) -> str:
    """What a hypothetical template's wording is, for every (task, property) it can render (a step key)."""
    return digest({t: {p: template.hash(T.get(t), p) for p in T.get(t).properties} for t in tasks})


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class PlannedStep:
    """A step `inward plan` found: what it does and how many rows of which kind it costs (from scratch)."""

    name: str
    seed: int
    kind: StepKind
    model: str  # the base model whose compute it costs
    rows: int
    experiment: str = ""  # the first experiment that declared it (a shared step counts there)


class Steps:
    """The run-level step runner shared by every seed: store bookkeeping, timings, logging, planning."""

    def __init__(
        self, store: Any, run_id: str, *, log: Callable[[str], None], planning: bool = False
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.log = log
        self.planning = planning
        self.timings: dict[str, float] = {}
        self.planned: list[PlannedStep] = []
        self._planned_keys: set[str] = set()
        self.on_step: Callable[[], None] = lambda: None
        self.current = ""  # the experiment whose steps are being declared (planning)

    def run(
        self,
        name: str,
        inputs: dict[str, Any],
        fn: StepFn,
        *,
        scope: str | None = None,
        valid: Callable[[dict[str, Any]], bool] = lambda out: True,
    ) -> dict[str, Any]:
        """Run `fn` unless a finished step with these inputs is on record in this run (or in `scope`, a
        namespace shared by runs: trained models) and its output is still `valid`."""
        run_id = scope or self.run_id
        key = f"{name}:{digest(inputs)}"
        done = self.store.step_done(run_id, key)
        if done is not None and valid(dict(done["output"] or {})):
            return dict(done["output"] or {})
        self.log(name)
        t0 = time.perf_counter()
        self.store.mark_step(run_id, key, "running", None)
        out = fn()
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 1)
        self.store.mark_step(run_id, key, "done", out)
        self.on_step()
        return out

    def plan(self, key: str, step: PlannedStep) -> None:
        if key not in self._planned_keys:
            self._planned_keys.add(key)
            self.planned.append(replace(step, experiment=self.current))


class Context:
    """One training seed's view of an experiment run (see the module docstring)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        *,
        seed: int,
        workspace: Path,
        run_dir: Path,
        steps: Steps,
        models: ModelAccess,
        template: PromptTemplate,
        rules: Any,
        progress: bool,
    ) -> None:
        self.cfg = cfg
        self.seed = seed
        self.workspace = workspace
        self.run_dir = run_dir
        self.store = steps.store
        self._steps = steps
        self.models = models
        self.template = template
        self.rules = rules
        self.progress = progress
        self.train_tasks = list(cfg.train_tasks or T.TRAINING_TASKS)
        self.eval_tasks = list(cfg.eval_tasks or T.HELD_OUT_TASKS)
        # Canonical names of the configured properties (the config accepts aliases); None = all.
        self.property_names = [P.get(name).name for name in cfg.properties] if cfg.properties else None
        self.trained: dict[str, dict[str, Any]] = {}  # label -> training record (this seed)
        self.evaluated: set[str] = set()  # every model whose behaviour or hypotheticals entered a number
        self._memo: dict[tuple[Any, ...], Any] = {}
        self.readings = Readings(
            self.store,
            identify=self.model_id,
            object_config=self.object_config,
            template=template,
            eval_tasks=self.eval_tasks,
            properties=cfg.properties,
            rules=rules,
        )

    # -- plumbing ----------------------------------------------------------------------------------------------

    @property
    def planning(self) -> bool:
        return self._steps.planning

    def step(
        self,
        name: str,
        inputs: dict[str, Any],
        fn: StepFn,
        *,
        kind: StepKind = "other",
        model: str = "",
        rows: int = 0,
        placeholder: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run `fn` once for these inputs (resumable); under planning, record it and return `placeholder`."""
        if self.planning:
            base = str(ModelRef.parse(model).base) if model else ""
            self._steps.plan(f"{name}:{digest(inputs)}", PlannedStep(name, self.seed, kind, base, rows))
            return dict(placeholder or {})
        return self._steps.run(name, inputs, fn)

    def log(self, msg: str) -> None:
        self._steps.log(msg)

    def backend(self, ref: str) -> Backend:
        return self.models.backend(ref)

    def model_id(self, ref: str) -> ModelId:
        """`ref`'s identity (`inward.backends.identity.ModelId`), from the files on disk: never stale."""
        return self.models.identify(ref)

    def object_config(self, ref: str) -> Any:
        """The object config (`inward.runs.configs.ObjectConfig`) of `ref`'s behaviour in this experiment."""
        return self.cfg.object_level.for_model(ref)

    def identity_inputs(self, *refs: str) -> dict[str, str]:
        """What a step that reads or asks these models depends on: each one's identity and object config."""
        if self.planning:
            return {}
        return {ref: f"{self.model_id(ref).key}/{self.object_config(ref).key()}" for ref in refs}

    def data_dir(self) -> Path:
        """Where this seed's training files go (seed-0 files keep the layout of single-seed runs)."""
        return self.run_dir / "data" / ("" if self.seed == 0 else f"seed{self.seed}")

    def label(self, ref: str) -> str:
        """Short display names: "M1 (qwen2.5-0.5b) + m1-self", "M2 (smollm2-135m)"."""
        r = ModelRef.parse(ref)
        roles = {
            self.cfg.models.m3: "M3",
            self.cfg.models.m2: "M2",
            self.cfg.models.m1: "M1",
        }  # M1 wins a tie
        base = roles.get(str(r.base), r.name)
        if r.adapter is None:
            return f"{base} ({r.name})"
        adapter = r.adapter.removeprefix(self.cfg.name + "-")
        stem, dash, dig = adapter.rpartition("-")
        if dash and len(dig) == 6 and all(c in "0123456789abcdef" for c in dig):
            adapter = stem  # the inputs digest of a pipeline-trained adapter: not for people
        return f"{base} ({r.name}) + {adapter}"

    def _rows(self, tasks: list[str], limit: int | None, per_property: bool) -> int:
        rows, prompts = eval_rows(tasks, limit, self.property_names)
        return rows if per_property else prompts

    # -- training ------------------------------------------------------------------------------------------------

    def train(
        self,
        label: str,
        base: str,
        data: Path,
        plan: Training,
        *,
        init_adapter: str | None = None,
        rows: int = 0,
        seed: int | None = None,
    ) -> str:
        """Fine-tune `base` on `data` through the `Trainer` of `base` as `<run>-<label>-<digest of the inputs>`;
        returns the trained ModelRef. The name carries the digest so that changed inputs (settings, data, base,
        initial adapter, seed) train a new model instead of resuming, reusing or overwriting the old one.
        `seed`: the training seed (default this context's)."""
        seed = self.seed if seed is None else seed
        if self.planning:
            name = f"{self.cfg.name}-{label}-s{self.seed}plan"
            self.step(
                f"train {label}",
                {"label": label, "seed": self.seed},
                dict,
                kind="train",
                model=base,
                rows=rows,
            )
            return str(ModelRef.parse(base).with_adapter(name))
        inputs = {
            "base": base,
            "base_id": self.model_id(base).key,
            "data": file_digest(data),
            "plan": plan.model_dump(),
            "init": init_adapter,
            "init_id": None if init_adapter is None else self.model_id(f"{base}+adapter={init_adapter}").key,
            "seed": seed,
        }
        name = f"{self.cfg.name}-{label}-{digest(inputs)[:6]}"

        def fn() -> dict[str, Any]:
            from inward.store import ModelRecord

            self.models.release()  # training needs the memory more than a warm inference model
            trainer = self.models.trainer(base, progress=self.progress)
            start = base if init_adapter is None else str(ModelRef.parse(base).with_adapter(init_adapter))
            model = trainer.fit(
                data,
                start,
                self.models.train_config(trainer.kind, plan, seed),
                name=name,
                out_dir=self.workspace / "models" / name,
            )
            self.store.register_model(ModelRecord(**model.record_fields()))
            m = model.metrics
            losses = m.get("train_loss") or []
            return {
                "ref": model.ref,
                "name": name,
                "n_train": int(m.get("n_train") or 0),
                "train_time_s": round(float(m.get("train_time_s") or 0.0), 1),
                "examples_per_s": round(float(m.get("examples_per_s") or 0.0), 2),
                "final_train_loss": losses[-1] if losses else m.get("final_train_loss"),
            }

        # Trained models are shared by every run of this name with the same inputs (the cpu demo and the
        # controls profile train M1 once), while their files are there.
        out = self._steps.run(
            f"train {label}",
            {**inputs, "name": name},
            fn,
            scope=TRAINED_SCOPE,
            valid=lambda o: (
                (self.workspace / "models" / str(o.get("name"))).exists()
                or "ref" not in o
                or not str(o["ref"]).startswith(("local/", "vllm/"))  # adapters trained here
            ),
        )
        self.trained[label] = out
        return str(out["ref"])

    def self_trained(self, role: str) -> str:
        """The model of `role` fine-tuned on its own behaviour on the training tasks (this seed's draw)."""
        key = ("self", role)
        if key not in self._memo:
            self._memo[key] = self._self_train(role)
        return str(self._memo[key][0])

    def self_dataset(self, role: str) -> Path:
        self.self_trained(role)
        return Path(self._memo[("self", role)][1])

    def _self_train(self, role: str) -> tuple[str, str]:
        from inward.training.datasets import build_self

        base = self.cfg.model(role)
        data = self.data_dir() / f"{role}-self.jsonl"
        sz = self.cfg.sizes

        def fn() -> dict[str, Any]:
            data.parent.mkdir(parents=True, exist_ok=True)
            path, val = build_self(
                self.store,
                self.backend(base),
                data,
                tasks=self.train_tasks,
                properties=self.cfg.properties,
                per_combo=sz.per_combo,
                items_per_task=sz.train_items_per_task,
                seed=self.seed,
                draw=self.seed,
                template=self.template,
                progress=self.progress,
                object_config=self.object_config(base),
            )
            return {"path": str(path), "val": str(val) if val else None, "digest": file_digest(path)}

        ds = self.step(
            f"dataset self {role}",
            {
                "base": base,
                "tasks": self.train_tasks,
                "sizes": sz.model_dump(),
                "p": self.cfg.properties,
                "seed": self.seed,
                "tpl": self.template.name,
                "ids": self.identity_inputs(base),
            },
            fn,
            kind="object",
            model=base,
            rows=self._train_rows(),
            placeholder={"path": str(data)},
        )
        ref = self.train(
            f"{role}-self", base, Path(ds["path"]), self.training_plan(role), rows=self._pair_rows()
        )
        return ref, str(ds["path"])

    def cross_trained(
        self,
        target: str,
        predictor: str,
        *,
        snapshot: Literal["trained", "untrained"] = "trained",
        share: float = 1.0,
        seed_offset: int = 0,
    ) -> str:
        """`predictor` fine-tuned on the self-trained `target`'s behaviour, with the same (task, property)
        composition and items as `target`'s own self-training set (SPEC §9). A predictor equal to the target is
        its *sibling*: the target's own base trained on the self-trained target's behaviour.

        `snapshot="untrained"`: on the untrained target's behaviour instead (the snapshot-asymmetry control);
        `share`: on that share of the pairs of every combination (data scaling); `seed_offset`: with another
        training seed (a seed sibling)."""
        key = ("cross", target, predictor, snapshot, share, seed_offset)
        if key not in self._memo:
            self._memo[key] = self._cross_train(target, predictor, snapshot, share, seed_offset)
        return str(self._memo[key])

    def cross_data(self, target: str, snapshot: Literal["trained", "untrained"] = "trained") -> Path:
        """The cross set on `target`: pairs from the (self-trained, or untrained) target's behaviour with the
        (task, property) composition and items of its self-training set (a resumable step; no training)."""
        key = ("cross data", target, snapshot)
        if key not in self._memo:
            self._memo[key] = self._cross_data(target, snapshot)
        return Path(self._memo[key])

    def _cross_data(self, target: str, snapshot: str) -> str:
        from inward.training.datasets import build_cross

        about = self.self_trained(target) if snapshot == "trained" else self.cfg.model(target)
        like = self.self_dataset(target)
        data = self.data_dir() / f"cross-{target}{'' if snapshot == 'trained' else '-untrained'}.jsonl"

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
            f"dataset cross on {target}" + ("" if snapshot == "trained" else " (untrained)"),
            {
                "about": about,
                "like": "" if self.planning else file_digest(like),
                "ids": self.identity_inputs(about),
            },
            fn,
            kind="object",
            model=about,
            rows=self._train_rows(),
            placeholder={"path": str(data)},
        )
        return str(ds["path"])

    def _cross_train(self, target: str, predictor: str, snapshot: str, share: float, seed_offset: int) -> str:
        from inward.training.datasets import subset

        label = f"{target}-sibling" if predictor == target else f"{predictor}-cross-{target}"
        label += "" if snapshot == "trained" else "-untrained"
        source = self.cross_data(target, snapshot)  # type: ignore[arg-type]
        path = source
        if share < 1:
            label += f"-{round(share * 100)}pct"
            path = self.data_dir() / f"{label}.jsonl"
            if not self.planning:
                subset(source, path, share, seed=self.seed)
        if seed_offset:
            label += f"-seed{self.seed + seed_offset}"
        return self.train(
            label,
            self.cfg.model(predictor),
            path,
            self.training_plan(predictor),
            rows=round(self._pair_rows() * share),
            seed=self.seed + seed_offset,
        )

    def training_plan(self, role: str) -> Training:
        return getattr(self.cfg.training, role, None) or self.cfg.training.m2

    def _train_rows(self) -> int:
        return sum(
            len(T.get(t).items("train")[: self.cfg.sizes.train_items_per_task]) for t in self.train_tasks
        )

    def _pair_rows(self) -> int:
        """Upper bound on self-prediction pairs: per_combo per (training task, configured property)."""
        n = 0
        for name in self.train_tasks:
            t = T.get(name)
            props = [p for p in t.properties if self.property_names is None or p in self.property_names]
            n += len(props) * min(self.cfg.sizes.per_combo, self.cfg.sizes.train_items_per_task)
        return n

    # -- evaluation ------------------------------------------------------------------------------------------

    def evaluate(
        self,
        object_model: str,
        hypothetical_model: str,
        *,
        changed_from: str | None = None,
        limit: int | None = None,
        template: PromptTemplate | None = None,
    ) -> None:
        """Object level for `object_model`, then hypotheticals of `hypothetical_model` about it, on held-out val items.

        With `changed_from` (a model already evaluated on the same items), hypotheticals are asked only where
        `object_model`'s property value differs from that model's: the prompts the behaviour-change analysis
        scores (SPEC §12). The others would cost most of the step and enter no number.
        `template`: the hypothetical wording (default the experiment's); the object level is the experiment's
        whatever the template, so that every wording is scored against the same behaviour."""
        from inward.runs import run_hypotheticals

        tpl = self.template if template is None else template
        tasks = self.eval_tasks
        n = self.cfg.sizes.eval_items_per_task if limit is None else limit

        def fn() -> dict[str, Any]:
            o = self.objects(object_model, tasks, n)
            only = None if changed_from is None else self.changed_keys(changed_from, object_model, tasks)
            m = run_hypotheticals(
                self.store,
                self.backend(hypothetical_model),
                tasks=tasks,
                about=self.model_id(object_model),
                split="val",
                limit=n,
                template=tpl,
                properties=self.cfg.properties,
                object_config=self.object_config(object_model),
                progress=self.progress,
                only=only,
                include_undefined=self.cfg.paper_code,
            )
            return {
                "object_rows": o.new_rows + o.existing_rows,
                "hypothetical_rows": m.new_rows + m.existing_rows,
            }

        models = [object_model, hypothetical_model, *([changed_from] if changed_from else [])]
        self.evaluated.update(models)
        inputs = {
            "o": object_model,
            "m": hypothetical_model,
            "t": tasks,
            "n": n,
            "tpl": self.template.name,
            **(
                {}
                if template is None
                else {"hyp_tpl": template.name, "hyp_hash": template_digest(tpl, tasks)}
            ),
            "p": self.cfg.properties,
            "ids": self.identity_inputs(*models),
            **({"changed_from": changed_from} if changed_from else {}),
            **({"paper_code": True} if self.cfg.paper_code else {}),
        }
        name = f"evaluate {hypothetical_model} about {object_model}" + (
            "" if template is None else f" ({tpl.name})"
        )
        if self.planning:  # two costs: the object level of one model, the hypotheticals of the other
            self.step(
                f"answer {object_model}",
                {"o": object_model},
                dict,
                kind="object",
                model=object_model,
                rows=self._rows(tasks, n, per_property=False),
            )
            self.step(
                name,
                inputs,
                dict,
                kind="hypothetical",
                model=hypothetical_model,
                # after a shift only the changed rows are asked (the plan assumes the share it states)
                rows=round(
                    self._rows(tasks, n, per_property=True)
                    * (PLANNED_SHIFT_SHARE if changed_from else 1)
                    * getattr(tpl, "cost_factor", 1.0)  # shots in context: longer prompts
                ),
            )
            return
        self.step(name, inputs, fn)

    def changed_keys(self, old_model: str, new_model: str, tasks: list[str]) -> set[tuple[str, str, str]]:
        """(task, item id, property) of the configured properties where the two models' values differ."""
        from inward.metrics import shifted_prompts

        sh = shifted_prompts(*self.readings.objects(old_model, new_model, tasks=tasks))
        keep = self.property_names
        return {
            (t, i, p)
            for t, i, p in zip(sh["task"], sh["item_id"], sh["property"], strict=True)
            if keep is None or p in keep
        }

    def objects(self, model: str, tasks: list[str], limit: int) -> Any:
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
            o = self.objects(model, tasks, limit)
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
            kind="object",
            model=model,
            rows=self._rows(tasks, limit, per_property=False),
        )

    def context_items(self, task: str) -> list[T.Item]:
        """The train-split items of a held-out task whose behaviour the controls may show or fit on (in-context
        shots, input-only predictors): `controls.context_items` of them, this seed's draw. Never a val item."""
        from inward.training.datasets import train_items

        return train_items(T.get(task), self.cfg.controls.context_items, draw=self.seed)

    def train_behaviour(self, model: str) -> dict[tuple[str, str], dict[str, Any]]:
        """`model`'s behaviour on `context_items` of every held-out task: (task, item id) -> {property: value},
        compliant answers only (a stored, resumable step; the rows are read back from the store)."""
        from inward.runs import run_object

        tasks = self.eval_tasks

        def fn() -> dict[str, Any]:
            n = 0
            for name in tasks:
                ids = [it.id for it in self.context_items(name)]
                r = run_object(
                    self.store,
                    self.backend(model),
                    tasks=[name],
                    split="train",
                    limit=None,
                    template=self.template,
                    config=self.object_config(model),
                    progress=self.progress,
                    item_ids=ids,
                )
                n += r.new_rows + r.existing_rows
            return {"object_rows": n}

        self.step(
            f"answer {model} (train split of the held-out tasks)",
            {
                "o": model,
                "t": tasks,
                "n": self.cfg.controls.context_items,
                "draw": self.seed,
                "tpl": self.template.name,
                "ids": self.identity_inputs(model),
            },
            fn,
            kind="object",
            model=model,
            rows=len(tasks) * self.cfg.controls.context_items,
        )
        if self.planning:
            return {}
        wanted = {(name, it.id) for name in tasks for it in self.context_items(name)}
        df = self.readings.compliant(model, tasks, split="train")
        return {
            (t, i): dict(props)
            for t, i, props in zip(
                df.get("task", []), df.get("item_id", []), df.get("properties", []), strict=True
            )
            if (t, i) in wanted
        }

    # -- behaviour change --------------------------------------------------------------------------------------

    def shifted(self) -> tuple[str, str, str]:
        """(M1 self-trained, MC = it fine-tuned on the shift source's answers, the source) for this seed."""
        key = ("shift",)
        if key not in self._memo:
            self._memo[key] = self._shift()
        return self._memo[key]  # type: ignore[no-any-return]

    def shift_source(self) -> str:
        return self.cfg.models.shift_source or self.cfg.models.m2

    def _shift(self) -> tuple[str, str, str]:
        from inward.training.datasets import build_shift

        c = self.cfg
        m1t = self.self_trained("m1")
        source = self.shift_source()
        data = self.data_dir() / "m1-shift.jsonl"

        def fn() -> dict[str, Any]:
            data.parent.mkdir(parents=True, exist_ok=True)
            path = build_shift(
                self.store,
                self.backend(m1t),
                self.backend(source),
                data,
                tasks=self.eval_tasks,
                n=c.sizes.shift_rows,
                self_distill_fraction=c.sizes.shift_self_distill,
                keep_same=c.sizes.shift_keep_same,
                seed=self.seed,
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
                "seed": self.seed,
                "ids": self.identity_inputs(m1t, source),
            },
            fn,
            kind="object",
            model=m1t,
            rows=SHIFT_COST_ROWS * c.sizes.shift_rows,
            placeholder={"path": str(data)},
        )
        trained = ModelRef.parse(m1t)
        # Local and served LoRA: the base with M1's adapter as the start. Hosted fine-tunes (OpenAI, Together) are
        # models of their own: their trainer continues the fine-tuned model itself.
        mc = self.train(
            "m1-shifted",
            str(trained.base) if trained.adapter is not None else m1t,
            Path(ds["path"]),
            c.training.shift,
            init_adapter=trained.adapter,
            rows=c.sizes.shift_rows,
        )
        return m1t, mc, source
