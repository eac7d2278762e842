"""The experiment file: what `inward run EXPERIMENT.yaml` reproduces, validated with one clear line per mistake.

    name: demo
    models: {m1: local/qwen2.5-0.5b, m2: local/smollm2-135m}
    experiments: [self_training, cross_prediction, calibration, behaviour_change]
    sizes: {train_items_per_task: 60, per_combo: 40, eval_items_per_task: 60, calibration_items: 40, shift_rows: 120}
    training: {m1: {lr: 1e-3}, m2: {lr: 1e-3}}

Every field has a default; see `ExperimentConfig` for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from inward.backends.vllm_config import VLLMOptions
from inward.errors import UserError

ALL_EXPERIMENTS: tuple[str, ...] = (
    "self_training",
    "cross_prediction",
    "calibration",
    "behaviour_change",
)


class _Strict(BaseModel):
    # validate_default: a default such as `alpha = 16` must be the float 16.0 it is when read back from the YAML
    # the run writes; otherwise the in-process config and its file digest differently and `inward run` of the
    # written experiment file retrains everything the demo trained.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


Role = Literal["m1", "m2", "m3"]


class Models(_Strict):
    m1: str = Field("local/qwen2.5-0.5b", description="The model whose introspection is studied (M1).")
    m2: str = Field("local/smollm2-135m", description="The cross-predictor (M2), trained on M1's behaviour.")
    m3: str | None = Field(
        None, description="An optional third model (e.g. local/qwen2.5-1.5b) for further cross pairs."
    )
    shift_source: str | None = Field(
        None, description="Whose answers shift M1's behaviour (default: M2's untrained behaviour)."
    )

    @field_validator("m1", "m2", "m3", "shift_source")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None:
            from inward.refs import ModelRef

            try:
                ModelRef.parse(v)
            except UserError as e:
                raise ValueError(str(e)) from None
        return v


class Sizes(_Strict):
    train_items_per_task: int = Field(
        60, ge=1, description="Train-split items per training task (object level)."
    )
    per_combo: int = Field(40, ge=1, description="Self-prediction pairs per (task, property) combination.")
    eval_items_per_task: int = Field(60, ge=1, description="Val-split items per held-out task.")
    calibration_items: int = Field(40, ge=1, description="Prompts per calibration panel.")
    shift_rows: int = Field(120, ge=1, description="Behaviour-shift training rows (from the shift source).")
    shift_self_distill: float = Field(
        0.5, ge=0, lt=1, description="Share of self-distilled rows in the shift set."
    )
    shift_keep_same: bool = Field(
        False,
        description="Keep shift-source answers equal to M1's own (they shift nothing; skipped by default).",
    )


class Training(_Strict):
    lr: float = Field(1e-3, gt=0)
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    rank: int = Field(8, ge=1)
    alpha: float = Field(16, gt=0)
    max_len: int = Field(256, ge=16)
    checkpoint_every: int = Field(10, ge=0)
    # Local LoRA at scale (inward.training.launch, .qlora): accelerate config ddp|fsdp|zero3|PATH, its process
    # count, and a 4-bit base (QLoRA). Hosted trainers ignore them.
    accelerate_config: str | None = None
    num_processes: int | None = Field(None, ge=1)
    quantize: Literal["4bit"] | None = None

    @model_serializer(mode="wrap")
    def _without_unused_scale(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out while unset, so the run ids and trained-model names of existing plans (digests of this
        # dump) stay what they were.
        d: dict[str, Any] = handler(self)
        return {k: v for k, v in d.items() if not (k in _SCALE and v is None)}


_SCALE = ("accelerate_config", "num_processes", "quantize")


class TrainingPlan(_Strict):
    m1: Training = Training()
    m2: Training = Training()
    shift: Training = Training(lr=5e-4, batch_size=4)


class CalibrationPanel(_Strict):
    task: str
    property: str

    @field_validator("task")
    @classmethod
    def _task(cls, v: str) -> str:
        from inward import tasks as T

        try:
            return T.get(v).name
        except UserError as e:
            raise ValueError(str(e)) from None

    @field_validator("property")
    @classmethod
    def _property(cls, v: str) -> str:
        return _canonical_property(v)


def _canonical_property(name: str) -> str:
    """The stored name of a property (aliases such as is_either_a_or_c → among_a_or_c): rows are stored and
    filtered under it, so a config that kept an alias would silently lose that property's results."""
    from inward import properties as P

    try:
        return P.get(name).name
    except UserError as e:
        raise ValueError(str(e)) from None


class ObjectLevel(_Strict):
    """How object-level behaviour is decoded (`inward.runs.configs.ObjectConfig`): part of every row's key."""

    temperature: float = Field(0.0, ge=0)
    max_tokens: int = Field(48, ge=1)
    samples: int = Field(1, ge=1)
    seed: int = 0
    mode_of: int | None = Field(
        None,
        ge=1,
        description="Mode of N greedy answers per prompt (the paper's API control, SPEC §7); "
        "None = 5 for API models, 1 for local ones.",
    )

    def for_model(self, ref: str) -> Any:
        """The `ObjectConfig` for model `ref`."""
        from inward.runs.configs import decoded_config

        return decoded_config(ref, **self.model_dump())


class Controls(_Strict):
    """Settings of the control experiments (`inward.experiments.controls`; ../research/CONTROLS.md)."""

    target: Role = Field(
        "m1", description="Whose self-prediction the controls test (its self-trained model)."
    )
    in_context_k: tuple[int, ...] = Field(
        (0, 4),
        description="Shots of the target's (hypothetical → property) pairs a third party sees in context.",
    )
    in_context_predictors: tuple[Role, ...] = Field(
        ("m2",), description="Untrained models that predict the target with its pairs in context."
    )
    context_items: int = Field(
        12,
        ge=1,
        description="Train-split items per held-out task whose behaviour feeds the in-context shots "
        "and the input-only predictors (never a val item).",
    )
    paraphrases: tuple[str, ...] = Field(
        ("inward-v1-p1", "inward-v1-p2", "inward-v1-p3"),
        description="Prompt templates that reword every hypothetical question (paraphrase robustness).",
    )
    response_trained: bool = Field(
        True,
        description="Also train the target's base on the cross pairs with its answers shown (response in context).",
    )
    seed_sibling: bool = Field(
        True, description="Also a sibling trained with another training seed (the sibling control)."
    )
    scaling: tuple[float, ...] = Field(
        (0.25, 0.5, 1.0), description="Shares of the cross set the data-scaling control trains on."
    )

    @field_validator("paraphrases")
    @classmethod
    def _templates(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from inward.prompts import get

        for name in v:
            try:
                get(name)
            except UserError as e:
                raise ValueError(str(e)) from None
        return v

    @field_validator("scaling")
    @classmethod
    def _shares(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        bad = [x for x in v if not 0 < x <= 1]
        if bad:
            raise ValueError(f"scaling shares must lie in (0, 1]; got {bad[0]}")
        return tuple(sorted(set(v)))


class ExperimentConfig(_Strict):
    name: str = Field(
        "experiment", pattern=r"^[A-Za-z0-9_.-]+$", description="Run name (folder under runs/)."
    )
    seeds: tuple[int, ...] = Field(
        (0,),
        description="Training seeds: the training-dependent experiments run once per seed, with independent "
        "training seeds and independent draws of the training and shift items (`seed: N` means [N]).",
    )
    models: Models = Models()
    experiments: tuple[str, ...] = Field(
        ALL_EXPERIMENTS, min_length=1, description="Registered experiments to run (inward.experiments.base)."
    )
    train_tasks: tuple[str, ...] | None = Field(None, description="Default: the paper's training tasks.")
    eval_tasks: tuple[str, ...] | None = Field(None, description="Default: the paper's held-out tasks.")
    properties: tuple[str, ...] | None = Field(
        None, description="Restrict to these properties (default: all)."
    )
    cross_pairs: tuple[tuple[Role, Role], ...] = Field(
        (("m1", "m2"), ("m2", "m1")),
        min_length=1,
        description="Cross-prediction pairs [target, predictor]: the predictor is trained on the self-trained "
        "target's behaviour and compared with the target predicting itself. Default: both directions.",
    )
    collateral_tasks: tuple[str, ...] | None = Field(
        None,
        description="Tasks outside the shift set on which behaviour change checks for collateral change "
        "(default: the training tasks that are not held out; [] turns the check off).",
    )
    sizes: Sizes = Sizes()
    controls: Controls = Controls()
    training: TrainingPlan = TrainingPlan()
    calibration: tuple[CalibrationPanel, ...] = (
        CalibrationPanel(task="animals_long", property="second_character"),
        CalibrationPanel(task="animals_long", property="first_word"),
        CalibrationPanel(task="survival_instinct", property="ethical_stance"),
        CalibrationPanel(task="mmlu_non_cot", property="among_a_or_c"),
    )
    calibration_method: Literal["exact", "sampled"] = "exact"
    calibration_samples: int = Field(
        20, ge=1, description="Samples per prompt when calibration samples (or an exact request falls back)."
    )
    object_level: ObjectLevel = ObjectLevel()
    paper_code: bool = Field(
        False,
        description="Score as the paper's official code did where inward deliberately differs "
        "(inward.metrics.PAPER_CODE_RULES; docs/paper-code.md); also asks hypotheticals for undefined values.",
    )
    template: str = "inward-v1"
    backend: dict[str, Any] = Field(
        default_factory=dict, description="Options for the local backend (batch_size, device)."
    )
    vllm: VLLMOptions = Field(
        default_factory=VLLMOptions,
        description="The vLLM server of vllm/ models: tensor_parallel_size, max_lora_rank, max_loras, "
        "max_logprobs, gpu_memory_utilization, ... (inward.backends.vllm_config.VLLMOptions).",
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        """Experiment files written before seeds and cross pairs existed keep their meaning."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "seed" in data:
            if "seeds" in data:
                raise ValueError("give `seeds: [...]` or `seed: N`, not both")
            data["seeds"] = [data.pop("seed")]
        if "cross_both_directions" in data:
            both = data.pop("cross_both_directions")
            data.setdefault("cross_pairs", [["m1", "m2"], ["m2", "m1"]] if both else [["m1", "m2"]])
        return data

    @field_validator("experiments")
    @classmethod
    def _experiments(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from inward.experiments import registry  # noqa: F401  (registers the built-in experiments)
        from inward.experiments.base import REGISTRY

        unknown = [x for x in v if x not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown experiment {unknown[0]!r}; known: {', '.join(REGISTRY)}")
        return tuple(dict.fromkeys(v))

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v:
            raise ValueError("give at least one seed, e.g. seeds: [0]")
        if len(set(v)) != len(v):
            raise ValueError(f"seeds repeat: {list(v)}; give each seed once")
        return v

    @model_validator(mode="after")
    def _pairs(self) -> ExperimentConfig:
        for target, predictor in self.cross_pairs:
            if target == predictor:
                raise ValueError(
                    f"cross pair [{target}, {predictor}]: a model cannot be its own cross-predictor"
                )
            for role in (target, predictor):
                if role == "m3" and self.models.m3 is None:
                    raise ValueError(f"cross pair [{target}, {predictor}] names m3; set models.m3 first")
        if len(set(self.cross_pairs)) != len(self.cross_pairs):
            raise ValueError("cross_pairs repeat a pair; give each [target, predictor] once")
        return self

    def model(self, role: str) -> str:
        """The ModelRef of a role (m1, m2, m3)."""
        ref = getattr(self.models, role)
        if ref is None:
            raise UserError(f"models.{role} is not set")
        return str(ref)

    @field_validator("train_tasks", "eval_tasks", "collateral_tasks")
    @classmethod
    def _tasks(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is not None:
            from inward import tasks as T

            for name in v:
                try:
                    T.get(name)
                except UserError as e:
                    raise ValueError(str(e)) from None
        return v

    @field_validator("properties")
    @classmethod
    def _props(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else tuple(dict.fromkeys(_canonical_property(name) for name in v))


def format_errors(e: ValidationError, source: str) -> str:
    lines = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {where}: {msg}")
    return "\n".join(lines)


def yaml_error(path: Path, text: str, e: yaml.YAMLError) -> str:
    """One line: where the YAML parser gave up (line number) and why."""
    mark = getattr(e, "problem_mark", None)
    if mark is not None:
        line: int | None = mark.line + 1
    elif isinstance(e, yaml.reader.ReaderError):  # a bad character: it has a position, not a mark
        line = text.count("\n", 0, e.position) + 1
    else:
        line = None
    why = getattr(e, "problem", None) or str(e).splitlines()[0]
    where = f" line {line}:" if line is not None else ""
    return f"{path}:{where} not valid YAML ({' '.join(str(why).split())})"


def load_config(path: str | Path) -> ExperimentConfig:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no experiment file {p}")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read experiment file {p} ({e.strerror}); check its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise UserError(
            f"{p}: line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); save the file as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise UserError(yaml_error(p, text, e)) from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: the experiment file must be a mapping of settings")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as e:
        raise UserError(format_errors(e, str(p))) from None
