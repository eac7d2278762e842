"""The Python API (private module; `inward/__init__.py` re-exports its public names, listed there once).

    import inward
    m1 = inward.get_model("local/qwen2.5-0.5b")
    inward.object_level(m1, tasks=["animals_long"], limit=20)
    inward.hypothetical(m1, tasks=["animals_long"], limit=20)
    inward.score(object=m1, hypothetical=m1, tasks=["animals_long"]).table

Every call goes through the same store and answer cache as the CLI (a workspace folder, by default
$INWARD_WORKSPACE or ./inward-workspace; `inward.workspace(path)` picks another), so a notebook and the
command line share and resume each other's work. The CLI is a thin layer over these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inward.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from inward.experiments.config import ExperimentConfig
    from inward.experiments.plan import Plan
    from inward.report.results import Results
    from inward.runs.score import ScoreResult
    from inward.tasks import Split


# --- workspace ---------------------------------------------------------------------------------------------
class Workspace:
    """A workspace folder: the store of behaviour and answers, trained models, runs and their reports."""

    def __init__(self, path: str | Path | None = None) -> None:
        from inward.paths import workspace_dir

        self.path = workspace_dir(path)
        self._store: Any = None

    @property
    def store(self) -> Any:
        """The workspace's `inward.store.Store` (opened, and the folder created, on first use; reopened if
        someone closed it)."""
        if self._store is None or self._store.closed:
            import sqlite3

            from inward.paths import WORKSPACE_ENV
            from inward.store import Store

            where = f"pass --workspace DIR (or set {WORKSPACE_ENV}; in Python inward.workspace(DIR)) to a folder you can write"
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise UserError(f"cannot use workspace {self.path} ({e.strerror or e}); {where}") from None
            try:
                self._store = Store.open(self.path)
            except sqlite3.OperationalError as e:  # e.g. inward.db is a folder, or the disk is read-only
                raise UserError(f"cannot open the store in {self.path} ({e}); {where}") from None
        return self._store

    def runs(self) -> list[str]:
        """Names of the runs with results in this workspace."""
        root = self.path / "runs"
        return sorted(p.parent.name for p in root.glob("*/results.json")) if root.is_dir() else []

    def summary(self) -> Any:
        """What the store holds: models, trained models, runs, rows and sizes (`inward store ls`)."""
        return self.store.summary()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"


_WORKSPACES: dict[Path, Workspace] = {}


def workspace(path: str | Path | None = None) -> Workspace:
    """The workspace at `path` (default: $INWARD_WORKSPACE, else ./inward-workspace), one object per folder."""
    from inward.paths import workspace_dir

    key = workspace_dir(path)
    if key not in _WORKSPACES:
        _WORKSPACES[key] = Workspace(key)
    return _WORKSPACES[key]


def _ws(ws: Workspace | str | Path | None) -> Workspace:
    return ws if isinstance(ws, Workspace) else workspace(ws)


# --- models ------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Model:
    """A model by its reference (`local/qwen2.5-0.5b`, `openai/gpt-4o-mini`, `inspect/mockllm/model`,
    `BASE+adapter=NAME`); its backend is built on first use and kept."""

    ref: str
    workspace: Workspace
    options: dict[str, Any] = field(default_factory=dict)
    _backend: Any = field(default=None, repr=False)

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from inward.backends import make_backend
            from inward.runs.adapters import adapter_resolver

            store = self.workspace.store
            self._backend = make_backend(self.ref, adapter_path=adapter_resolver(store), **self.options)
        return self._backend

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        return f"Model({self.ref!r})"


ModelArg = Model | str


def get_model(ref: str, *, workspace: Workspace | str | Path | None = None, **options: Any) -> Model:
    """A model handle. `options` go to its backend (local: device, dtype, batch_size, threads; API: see
    the backend). The reference is checked now; the weights load on first use."""
    from inward.refs import ModelRef

    ModelRef.parse(ref)  # a malformed reference fails here, not at the first call
    return Model(ref, _ws(workspace), dict(options))


def _model(m: ModelArg, ws: Workspace | str | Path | None) -> Model:
    if isinstance(m, Model):
        return m
    return get_model(m, workspace=ws)


def _label(m: ModelArg) -> str:
    return m.ref if isinstance(m, Model) else m


def _tasks(tasks: Sequence[str] | str | None) -> list[str]:
    from inward import tasks as T

    if isinstance(tasks, str):
        tasks = [t for t in tasks.split(",") if t.strip()]
    return [T.get(t.strip()).name for t in tasks] if tasks else list(T.HELD_OUT_TASKS)


def _properties(properties: Sequence[str] | str | None) -> list[str] | None:
    from inward.runs.score import canonical_properties

    if isinstance(properties, str):
        properties = [p for p in properties.split(",") if p.strip()]
    return canonical_properties(list(properties) if properties else None)


def _template(template: Any) -> Any:
    from inward import prompts as PR

    return PR.get(template) if isinstance(template, str) else template


# --- results of the two stages -----------------------------------------------------------------------------
@dataclass
class _Stored:
    """Rows a call left in the store: the whole table it reads back, and how many were new."""

    table: pd.DataFrame
    new_rows: int
    existing_rows: int

    def summary(self) -> str:
        raise NotImplementedError

    def _counts(self) -> str:
        return f"{self.new_rows} new, {self.existing_rows} already stored"

    def __len__(self) -> int:
        return len(self.table)

    def _repr_html_(self) -> str:
        import html

        return f"<p><b>{html.escape(self.summary())}</b></p>" + self.table.head(20).to_html(
            index=False, escape=True
        )


@dataclass
class Behaviour(_Stored):
    """Object-level behaviour of a model, as stored: one row per (task, item, sample) with property values."""

    model: str = ""
    object_config: str = ""

    def summary(self) -> str:
        # `table` is long: one row per answer and property. Count answers, not rows.
        answers = self.table.drop_duplicates(["task", "item_id", "sample"]) if len(self) else self.table
        ok = int(answers["object_compliance"].isna().sum()) if len(answers) else 0
        tasks = ", ".join(sorted(self.table["task"].unique())) if len(self) else "no tasks"
        return (
            f"{self.model}: {len(answers)} object-level answers ({ok} compliant; {len(self)} property values) "
            f"on {tasks}, object config '{self.object_config}' ({self._counts()})"
        )


@dataclass
class Hypotheticals(_Stored):
    """A model's answers to hypothetical questions about some model's behaviour, as stored."""

    model: str = ""
    about: str = ""

    def summary(self) -> str:
        return (
            f"{self.model} about {self.about}: {len(self)} hypothetical answers "
            f"({int(self.table['compliance'].isna().sum()) if len(self) else 0} compliant; {self._counts()})"
        )


def object_level(
    model: ModelArg,
    *,
    tasks: Sequence[str] | str | None = None,
    split: Split = "val",
    limit: int | None = None,
    template: Any = "inward-v1",
    config: Any = "auto",
    early_stop: bool = True,
    exact: bool = False,
    workspace: Workspace | str | Path | None = None,
) -> Behaviour:
    """Ask the object-level prompts of `tasks` (default: the held-out tasks) and store the answers.

    `config`: an `ObjectConfig`, its name as `inward object` prints it (e.g. "greedy", "t=1,samples=5,seed=1"),
    or "auto" (greedy; the mode of 5 for API models). `exact`: also store exact answer distributions (local).
    Returns the stored behaviour of those tasks under that config (new and earlier rows alike).
    """
    from inward.runs import run_object, run_object_distributions
    from inward.runs.configs import ObjectConfig, object_config_for
    from inward.runs.object_level import object_table

    m = _model(model, workspace)
    names, tpl = _tasks(tasks), _template(template)
    cfg = config if isinstance(config, ObjectConfig) else object_config_for(m.ref, config)
    store = m.workspace.store
    res = run_object(
        store,
        m.backend,
        tasks=names,
        split=split,
        limit=limit,
        template=tpl,
        config=cfg,
        early_stop=early_stop,
    )  # type: ignore[arg-type]
    if exact:
        run_object_distributions(store, m.backend, tasks=names, split=split, limit=limit, template=tpl)
    table = object_table(store, m.backend, tasks=names, split=split, template=tpl, config=cfg)
    if limit is not None and len(table):
        from inward import tasks as T

        keep = {(t, it.id) for t in names for it in T.get(t).items(split)[:limit]}
        table = table[[k in keep for k in zip(table["task"], table["item_id"], strict=True)]]
    return Behaviour(table.reset_index(drop=True), res.new_rows, res.existing_rows, m.ref, cfg.name)


def hypothetical(
    model: ModelArg,
    *,
    about: ModelArg | None = None,
    tasks: Sequence[str] | str | None = None,
    properties: Sequence[str] | str | None = None,
    split: Split = "val",
    limit: int | None = None,
    template: Any = "inward-v1",
    object_config: Any = "auto",
    paper_code: bool = False,
    exact: bool = False,
    config: Any = None,
    workspace: Workspace | str | Path | None = None,
) -> Hypotheticals:
    """Ask `model` the hypothetical questions about `about`'s stored behaviour (default: its own), for the
    items whose object-level answer was compliant. `about=` another model gives cross-prediction.

    `properties` default to every non-training property of each task; `config` is the hypotheticals'
    `GenerateConfig` (default greedy, 12 tokens); `paper_code` also asks about compliant answers whose
    property is undefined, as the paper's code did.
    """
    from inward.runs import HYPOTHETICAL_CONFIG, run_hypothetical_distributions, run_hypotheticals
    from inward.runs.configs import object_config_for
    from inward.runs.score import load_hypotheticals

    m = _model(model, workspace)
    target = _label(about) if about is not None else m.ref
    names, tpl, props = _tasks(tasks), _template(template), _properties(properties)
    ocfg = object_config_for(target, object_config)
    cfg = config or HYPOTHETICAL_CONFIG
    store = m.workspace.store
    kwargs: dict[str, Any] = {
        "tasks": names,
        "properties": props,
        "about": None if about is None else target,
        "split": split,
        "limit": limit,
        "template": tpl,
        "object_config": ocfg,
    }
    res = run_hypotheticals(store, m.backend, config=cfg, include_undefined=paper_code, **kwargs)
    if exact:
        run_hypothetical_distributions(store, m.backend, **kwargs)
    table = load_hypotheticals(store, m.backend, tasks=names, properties=props, split=split, template=tpl)
    return Hypotheticals(table, res.new_rows, res.existing_rows, m.ref, target)


def score(
    *,
    object: ModelArg,  # the paper's word: whose object-level behaviour is the truth
    hypothetical: ModelArg,
    tasks: Sequence[str] | str | None = None,
    properties: Sequence[str] | str | None = None,
    split: Split = "val",
    template: Any = "inward-v1",
    object_config: Any = "auto",
    paper_code: bool = False,
    workspace: Workspace | str | Path | None = None,
) -> ScoreResult:
    """Accuracy of `hypothetical`'s predictions of `object`'s behaviour (self-prediction when they are the
    same model), per property and micro-averaged, with the mode baseline and item-clustered intervals.
    `.table` is the accuracy table, `.scored` every scored row, `.summary()` a few lines of text."""
    from inward.metrics import rules_for
    from inward.runs import score as _score

    ws = object.workspace if isinstance(object, Model) else _ws(workspace)
    return _score(
        ws.store,
        object_model=_label(object),
        hypothetical_model=_label(hypothetical),
        tasks=_tasks(tasks),
        properties=_properties(properties),
        split=split,
        template=_template(template),
        object_config=object_config,
        rules=rules_for(paper_code),
    )


# --- experiments -------------------------------------------------------------------------------------------
def _config(experiment: Any, seeds: Sequence[int] | None) -> ExperimentConfig:
    from inward.experiments.config import ExperimentConfig, load_config

    if isinstance(experiment, ExperimentConfig):
        cfg = experiment
    elif isinstance(experiment, dict):
        cfg = ExperimentConfig.model_validate(experiment)
    elif isinstance(experiment, (str, Path)):
        cfg = load_config(experiment)
    else:
        raise UserError("give an experiment as a YAML path, a dict or an ExperimentConfig")
    if seeds is not None:
        cfg = ExperimentConfig.model_validate({**cfg.model_dump(exclude_unset=True), "seeds": list(seeds)})
    return cfg


def run(
    experiment: Any,
    *,
    seeds: Sequence[int] | None = None,
    workspace: Workspace | str | Path | None = None,
    console: Any = None,
) -> Results:
    """Run an experiment (YAML path, dict or `ExperimentConfig`) and return its results; re-running after an
    interruption continues where it stopped. The report is written beside results.json."""
    from inward.experiments.runner import run_experiment

    ws = _ws(workspace)
    cfg = _config(experiment, seeds)
    ws.store  # noqa: B018 - open (and create) the workspace before any model loads
    run_dir = run_experiment(cfg, ws.path, console=console).parent
    return load(run_dir, workspace=ws)


def plan(
    experiment: Any,
    *,
    seeds: Sequence[int] | None = None,
    measure: bool = True,
    workspace: Workspace | str | Path | None = None,
) -> Plan:
    """Before anything runs: the steps, rows per comparison and detectable effects (`print(plan)` for the
    table `inward plan` prints, with the wall time from per-row costs measured on this machine)."""
    from inward.experiments.plan import make_plan, measured_costs

    ws = _ws(workspace)
    p = make_plan(_config(experiment, seeds), ws.path)
    refs = sorted({s.model for s in p.steps if s.model})
    p.costs = measured_costs(refs, measure=measure) or None
    return p


def demo(
    profile: str = "cpu",
    *,
    quick: bool = False,
    seeds: Sequence[int] | None = None,
    workspace: Workspace | str | Path | None = None,
    console: Any = None,
) -> Results:
    """The offline demo (`inward demo`): install the bundled models, run the profile, return its results."""
    from inward.experiments.demo import run_demo

    ws = _ws(workspace)
    ws.store  # noqa: B018
    report_dir = run_demo(
        ws.path, quick=quick, profile=profile, console=console, seeds=tuple(seeds) if seeds else None
    )
    assert report_dir is not None
    return load(report_dir.parent, workspace=ws)


def load(run: str | Path, *, workspace: Workspace | str | Path | None = None) -> Results:
    """A finished run's results: a run name in the workspace, its folder, or a results.json path."""
    from inward.experiments.runner import run_dir_timings, with_timings
    from inward.report.results import Results

    run_dir = _run_dir(run, workspace)
    return with_timings(Results.load(run_dir / "results.json"), run_dir_timings(run_dir))  # type: ignore[no-any-return]


def _run_dir(run: str | Path, workspace: Workspace | str | Path | None) -> Path:
    p = Path(run)
    if p.name == "results.json" and p.is_file():
        return p.parent
    if (p / "results.json").is_file():
        return p
    ws = _ws(workspace)
    candidate = ws.path / "runs" / str(run)
    if (candidate / "results.json").is_file():
        return candidate
    known = ", ".join(ws.runs()) or "none yet"
    raise UserError(
        f"no results.json for run {str(run)!r} (looked in {candidate}; runs there: {known}); run the "
        "experiment first (`inward run EXPERIMENT.yaml`, or inward.run)"
    )


def render_report(
    run: str | Path, *, workspace: Workspace | str | Path | None = None, console: Any = None
) -> Path:
    """(Re)write a run's HTML report from its results.json; returns the path of index.html."""
    from inward.experiments.runner import render

    return render(_run_dir(run, workspace), console=console)


# --- training ----------------------------------------------------------------------------------------------
def build_dataset(
    kind: str,
    out: str | Path,
    *,
    model: ModelArg | None = None,
    behaviour_of: ModelArg | None = None,
    like: str | Path | None = None,
    source: ModelArg | None = None,
    workspace: Workspace | str | Path | None = None,
    **options: Any,
) -> Path:
    """Write a training set (chat JSONL + manifest) from stored behaviour, running the object level where it
    is missing: "self" (`model`'s self-prediction pairs), "cross" (`like` = a self set whose composition is
    copied, labelled with `behaviour_of`'s behaviour), "shift" (`model` trained towards `source`'s answers).
    `options` are those of `inward.training.datasets.build_self` / `build_cross` / `build_shift`."""
    from inward.training import datasets as D

    out = Path(out)
    if kind == "self":
        if model is None:
            raise UserError("a self set needs model=")
        m = _model(model, workspace)
        return D.build_self(m.workspace.store, m.backend, out, **options)[0]  # type: ignore[no-any-return]
    if kind == "cross":
        if behaviour_of is None or like is None:
            raise UserError("a cross set needs behaviour_of= (the self-trained M1) and like= (M1's self set)")
        b = _model(behaviour_of, workspace)
        return D.build_cross(b.workspace.store, b.backend, Path(like), out, **options)  # type: ignore[no-any-return]
    if kind == "shift":
        if model is None or source is None:
            raise UserError("a shift set needs model= and source=")
        m, s = _model(model, workspace), _model(source, workspace)
        return D.build_shift(m.workspace.store, m.backend, s.backend, out, **options)  # type: ignore[no-any-return]
    raise UserError(f"unknown training set kind {kind!r}; use self, cross or shift")


def train(
    base: ModelArg,
    data: str | Path,
    name: str,
    *,
    val_data: str | Path | None = None,
    seed: int = 0,
    init_adapter: str | None = None,
    workspace: Workspace | str | Path | None = None,
    **plan: Any,
) -> Model:
    """LoRA-fine-tune `base` on a chat-JSONL file (resumable) and register it as `name`; returns the trained
    model (`BASE+adapter=NAME`). `plan`: lr, epochs, batch_size, grad_accum, rank, alpha, target_modules,
    checkpoint_every (defaults as `inward train`)."""
    from inward.runs.adapters import check_trained_name, train_and_register

    check_trained_name(name)
    ws = base.workspace if isinstance(base, Model) else _ws(workspace)
    defaults: dict[str, Any] = {
        "lr": 1e-3,
        "epochs": 1,
        "batch_size": 8,
        "grad_accum": 1,
        "rank": 8,
        "alpha": 16,
        "target_modules": ("q_proj", "k_proj", "v_proj", "o_proj"),
        "checkpoint_every": 10,
    }
    unknown = set(plan) - set(defaults)
    if unknown:
        raise UserError(f"unknown training options {sorted(unknown)}; known: {', '.join(defaults)}")
    out = train_and_register(
        ws.store,
        name=name,
        base=_label(base),
        data=Path(data),
        plan={
            **defaults,
            **plan,
            "target_modules": tuple(plan.get("target_modules", defaults["target_modules"])),
        },
        seed=seed,
        init_adapter=init_adapter,
        val_data=Path(val_data) if val_data is not None else None,
    )
    return get_model(str(out["ref"]), workspace=ws)
