"""The schema of ``results.json``: everything a report shows, as flat pydantic models.

    from inward.report import Results
    res = Results.load("runs/demo/results.json")       # UserError with one clear line when unreadable
    res.self_training.models[0].trained[-1].acc        # the "average" (micro-average) row comes last
    res.save("runs/demo/results.json")                  # atomic: temp file + os.replace

An experiment runner fills these models (`inward.report.build` converts the metrics tables) and saves them;
the report layer only reads them. Every experiment is optional: a results file may hold any subset.

Conventions: accuracies, rates and CI bounds are fractions in [0, 1]; MADs are on the paper's 0–100 scale;
a number that could not be computed (NaN) is stored as ``null``. Rows are one per reporting group in table
order, with the micro-average row (group ``"average"``, SPEC §10.1) last.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from inward.errors import UserError

SCHEMA_VERSION = 4  # 2: clustered intervals, coverage, rules, model ids; 3: evidence, seeds, both directions;
# 4: controls
AVERAGE = "average"


def _nan_to_none(x: Any) -> Any:
    # pandas hands us NaN for "not computable"; JSON has no NaN, so it is stored (and read back) as null.
    if isinstance(x, float) and math.isnan(x):
        return None
    if x is not None and hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()  # numpy scalar → Python scalar
        return None if isinstance(x, float) and math.isnan(x) else x
    return x


Num = Annotated[float | None, BeforeValidator(_nan_to_none)]
Int = Annotated[int, BeforeValidator(_nan_to_none)]
OptStr = Annotated[str | None, BeforeValidator(_nan_to_none)]


class _Model(BaseModel):
    # Unknown keys are an error: a typo in a runner must not silently drop a number from the report.
    model_config = ConfigDict(extra="forbid", frozen=False)


class AccRow(_Model):
    """Accuracy of one reporting group (or the micro-average) in one condition."""

    group: str = Field(description='Reporting group (property after SPEC §4.1 renames) or "average".')
    n: Int = Field(description="Rows (prompt × property) evaluated.")
    k: Int | None = Field(default=None, description="Rows whose hypothetical answer was correct.")
    acc: Num = Field(description="Accuracy k / n.")
    ci_low: Num = Field(
        default=None,
        description="Lower 95% bound, acc − 1.96·SEM: the paper's row-level SEM interval, kept for comparability.",
    )
    ci_high: Num = Field(default=None, description="Upper 95% bound, acc + 1.96·SEM (paper, rows).")
    wilson_low: Num = Field(default=None, description="Lower 95% Wilson score bound (reported when n < 30).")
    wilson_high: Num = Field(default=None, description="Upper 95% Wilson score bound.")
    boot_low: Num = Field(default=None, description="Lower 95% row-level percentile-bootstrap bound.")
    boot_high: Num = Field(default=None, description="Upper 95% row-level percentile-bootstrap bound.")
    n_clusters: Int | None = Field(
        default=None,
        description="Prompts (task, item_id) among the rows: the units the clustered CI resamples.",
    )
    cluster_low: Num = Field(
        default=None, description="Lower 95% item-clustered bootstrap bound (prompts resampled, not rows)."
    )
    cluster_high: Num = Field(default=None, description="Upper 95% item-clustered bootstrap bound.")
    baseline: Num = Field(
        default=None, description="Mode-baseline accuracy of the same rows (the paper's ⋆)."
    )
    compliance: Num = Field(default=None, description="Share of compliant hypothetical answers.")


class PairedTest(_Model):
    """A vs B on the same prompts (e.g. trained vs untrained, self vs cross, new vs old behaviour)."""

    group: str = Field(default=AVERAGE, description='Reporting group the test covers, or "average" (all).')
    n: Int = Field(description="Prompts present in both conditions.")
    acc_a: Num = Field(description="Accuracy of condition A.")
    acc_b: Num = Field(description="Accuracy of condition B.")
    diff: Num = Field(description="acc_a − acc_b.")
    ci_low: Num = Field(default=None, description="Lower 95% row-level paired-bootstrap bound of diff.")
    ci_high: Num = Field(default=None, description="Upper 95% row-level paired-bootstrap bound of diff.")
    p_bootstrap: Num = Field(default=None, description="Two-sided row-level bootstrap p-value of diff ≠ 0.")
    p_mcnemar: Num = Field(default=None, description="Exact McNemar p-value (null when rows are unpaired).")
    a_only: Int | None = Field(default=None, description="Rows A got right and B wrong.")
    b_only: Int | None = Field(default=None, description="Rows B got right and A wrong.")
    n_clusters: Int | None = Field(
        default=None, description="Prompts (task, item_id) the clustered test resamples."
    )
    cluster_ci_low: Num = Field(default=None, description="Lower 95% item-clustered bootstrap bound of diff.")
    cluster_ci_high: Num = Field(
        default=None, description="Upper 95% item-clustered bootstrap bound of diff."
    )
    p_cluster: Num = Field(
        default=None,
        description="Two-sided item-clustered bootstrap p-value of diff ≠ 0 (used for verdicts).",
    )


class TrainStats(_Model):
    """How a fine-tune went."""

    examples: Int = Field(description="Training examples seen (rows × epochs).")
    wall_s: Num = Field(default=None, description="Wall-clock seconds of training.")
    examples_per_s: Num = Field(default=None, description="Throughput, examples / wall_s.")
    final_loss: Num = Field(default=None, description="Training loss at the end, if recorded.")


class SelfTrainingModel(_Model):
    """One model before and after self-prediction training, evaluated on held-out tasks (Fig. 4, Fig. 10)."""

    model: str = Field(description="ModelRef of the untrained model.")
    label: str = Field(description="Short display name.")
    trained_model: str | None = Field(default=None, description="ModelRef of the self-trained model.")
    untrained: list[AccRow] = Field(description="Untrained model predicting itself, per group + average.")
    trained: list[AccRow] = Field(description="Trained model predicting itself, per group + average.")
    train: TrainStats | None = Field(default=None, description="Training statistics.")
    tests: list[PairedTest] = Field(
        default_factory=list,
        description="Paired tests, A = trained, B = untrained, per group and/or average.",
    )


class SelfTraining(_Model):
    """Self-prediction training (SPEC §8, Fig. 4)."""

    models: list[SelfTrainingModel] = Field(description="One entry per model trained.")
    tasks: list[str] = Field(default_factory=list, description="Held-out tasks evaluated.")


class CrossPredictor(_Model):
    """Another model, trained on the target's behaviour, predicting the target (M2 → M1)."""

    model: str = Field(description="ModelRef of the cross-trained predictor.")
    label: str = Field(description="Short display name.")
    role: str | None = Field(
        default=None, description='Role of the predictor in the experiment file ("m2", "m1").'
    )
    more_capable: bool | None = Field(
        default=None,
        description="Whether the predictor is more capable than the target by the capability measure "
        "(CrossPrediction.capability_measure); None when it cannot be told.",
    )
    rows: list[AccRow] = Field(description="Accuracy predicting the target, per group + average.")
    tests: list[PairedTest] = Field(
        default_factory=list, description="Paired tests, A = self-prediction, B = this predictor, per group."
    )
    train: TrainStats | None = Field(default=None, description="Training statistics of the predictor.")


class CrossTarget(_Model):
    """One target model M1: its self-prediction against cross-predictors (Fig. 5)."""

    model: str = Field(description="ModelRef of the target M1 (its self-trained version).")
    label: str = Field(description="Short display name.")
    role: str | None = Field(
        default=None, description='Role of the target in the experiment file ("m1", "m2").'
    )
    self_rows: list[AccRow] = Field(description="M1 predicting M1, per group + average.")
    cross: list[CrossPredictor] = Field(description="Cross-predictors of M1.")


class ModelCapability(_Model):
    """How capable a model is, to tell which cross-prediction direction has the stronger predictor."""

    model: str = Field(description="ModelRef of the (untrained) model.")
    label: str = Field(description="Short display name.")
    parameters: Int | None = Field(default=None, description="Parameter count of the base weights.")
    mc_accuracy: Num = Field(
        default=None,
        description="Object-level accuracy on the held-out multiple-choice tasks (answer = target).",
    )
    mc_n: Int | None = Field(default=None, description="Multiple-choice prompts scored.")
    mc_tasks: list[str] = Field(default_factory=list, description="The multiple-choice tasks scored.")


class CrossPrediction(_Model):
    """Cross-prediction (SPEC §9, §10.3, Fig. 5), in every configured direction."""

    targets: list[CrossTarget] = Field(description="One entry per target model.")
    tasks: list[str] = Field(default_factory=list, description="Held-out tasks evaluated.")
    capability: list[ModelCapability] = Field(
        default_factory=list, description="Capability of every model that is a target or a predictor."
    )
    capability_measure: str | None = Field(
        default=None, description="What `more_capable` compares (parameter count, then MC accuracy)."
    )


class CurvePoint(_Model):
    """One equal-frequency bin of a calibration curve."""

    bin: Int = Field(description="Bin index, 0 = lowest object-level probability.")
    x: Num = Field(description="Mean object-level probability in the bin.")
    y: Num = Field(description="Mean hypothetical probability in the bin.")
    n: Int = Field(description="Points in the bin.")


class CalibrationCondition(_Model):
    """One line of a calibration panel."""

    label: str = Field(description='Condition, e.g. "self-trained", "cross-trained", "untrained".')
    object_model: str | None = Field(default=None, description="ModelRef whose behaviour gives x.")
    hypothetical_model: str | None = Field(default=None, description="ModelRef whose hypotheticals give y.")
    mad: Num = Field(description="Mean absolute deviation over bins × 100 (lower = better calibrated).")
    mad_by_rank: dict[str, Num] = Field(
        default_factory=dict, description='MAD over the top-1/2/3 object values alone: {"top1": …, …}.'
    )
    curve: list[CurvePoint] = Field(default_factory=list, description="Binned curve, pooled over ranks.")
    n_prompts: Int | None = Field(
        default=None, description="Prompts with both distributions in this condition."
    )
    object_coverage: Num = Field(
        default=None,
        description="Mean probability mass the object-level distributions cover (enumerated or sampled); the "
        "comparison renormalises over it, which can move any probability by at most 1 − coverage.",
    )
    hypothetical_coverage: Num = Field(
        default=None, description="Mean covered mass of the hypothetical distributions."
    )
    object_noncompliant: Num = Field(
        default=None,
        description="Mean object-level mass of answers the task's compliance rules reject (refusals, junk): "
        "dropped from the comparison, not counted as a value.",
    )
    object_undefined: Num = Field(
        default=None,
        description="Mean object-level mass of answers too short to have the property (dropped).",
    )
    methods: dict[str, int] = Field(
        default_factory=dict,
        description='How the distributions were computed, counted over both levels: {"exact": …, "sampled": …, '
        '"logprobs": …} (a backend without exact distributions falls back).',
    )
    low_coverage: bool = Field(
        default=False, description="Object or hypothetical coverage below the panel's coverage floor."
    )


class MadTest(_Model):
    """Calibration of two conditions on the same prompts: MAD difference with an item-clustered bootstrap."""

    a: str = Field(description="Condition A (the one the paper expects to be better calibrated).")
    b: str = Field(description="Condition B.")
    mad_a: Num = Field(description="MAD of A (×100).")
    mad_b: Num = Field(description="MAD of B (×100).")
    diff: Num = Field(description="mad_b − mad_a: positive = A better calibrated.")
    ci_low: Num = Field(default=None, description="Lower 95% prompt-bootstrap bound of diff.")
    ci_high: Num = Field(default=None, description="Upper 95% prompt-bootstrap bound of diff.")
    p: Num = Field(default=None, description="Two-sided bootstrap p-value of diff ≠ 0.")
    se: Num = Field(default=None, description="Bootstrap standard error of diff.")
    n_prompts: Int | None = Field(default=None, description="Prompts all three distributions cover.")


class CalibrationPanel(_Model):
    """Calibration of one (task, property) (one panel of Fig. 6)."""

    task: str = Field(description="Task name.")
    property: str = Field(description="Property name.")
    n_prompts: Int = Field(description="Prompts whose distributions were compared.")
    method: Literal["exact", "sampled"] = Field(
        description="exact = enumerated distributions; sampled = empirical over samples at T=1."
    )
    samples: Int | None = Field(
        default=None,
        description="Samples per prompt actually drawn (read from the stored rows) where a distribution was "
        "sampled; None when every distribution was exact.",
    )
    conditions: list[CalibrationCondition] = Field(description="One entry per plotted line.")
    coverage_floor: Num = Field(
        default=None, description="Covered mass below which a condition is flagged (low_coverage)."
    )
    low_coverage: bool = Field(default=False, description="Some condition of this panel has low coverage.")
    self_vs_cross: MadTest | None = Field(
        default=None, description="Self-trained vs cross-trained MAD on the same prompts (A = self-trained)."
    )


class Calibration(_Model):
    """Calibration (SPEC §11, Fig. 6)."""

    target: str | None = Field(default=None, description="Label of the model whose behaviour is predicted.")
    panels: list[CalibrationPanel] = Field(description="One entry per (task, property).")


class ChangeRow(_Model):
    """Behaviour change of one group: predicting the old vs the new behaviour on shifted prompts."""

    group: str = Field(description='Reporting group or "average".')
    n: Int = Field(description="Shifted prompts evaluated.")
    acc_old: Num = Field(description="Accuracy against the old model's behaviour.")
    old_ci_low: Num = Field(default=None, description="Lower 95% bound of acc_old (±1.96·SEM).")
    old_ci_high: Num = Field(default=None, description="Upper 95% bound of acc_old.")
    old_wilson_low: Num = Field(
        default=None, description="Lower 95% Wilson bound of acc_old (shown when n < 30)."
    )
    old_wilson_high: Num = Field(default=None, description="Upper 95% Wilson bound of acc_old.")
    acc_new: Num = Field(description="Accuracy against the shifted model's own (new) behaviour.")
    new_ci_low: Num = Field(default=None, description="Lower 95% bound of acc_new.")
    new_ci_high: Num = Field(default=None, description="Upper 95% bound of acc_new.")
    new_wilson_low: Num = Field(default=None, description="Lower 95% Wilson bound of acc_new.")
    new_wilson_high: Num = Field(default=None, description="Upper 95% Wilson bound of acc_new.")
    old_cluster_low: Num = Field(
        default=None, description="Lower 95% item-clustered bootstrap bound of acc_old."
    )
    old_cluster_high: Num = Field(
        default=None, description="Upper 95% item-clustered bootstrap bound of acc_old."
    )
    new_cluster_low: Num = Field(
        default=None, description="Lower 95% item-clustered bootstrap bound of acc_new."
    )
    new_cluster_high: Num = Field(
        default=None, description="Upper 95% item-clustered bootstrap bound of acc_new."
    )
    baseline_old: Num = Field(default=None, description="Mode baseline against the old behaviour.")
    baseline_new: Num = Field(default=None, description="Mode baseline against the new behaviour.")
    diff: Num = Field(default=None, description="acc_new − acc_old.")
    diff_ci_low: Num = Field(default=None, description="Lower 95% row-level bootstrap bound of diff.")
    diff_ci_high: Num = Field(default=None, description="Upper 95% row-level bootstrap bound of diff.")
    p_bootstrap: Num = Field(default=None, description="Row-level bootstrap p-value of diff ≠ 0.")
    p_mcnemar: Num = Field(default=None, description="Exact McNemar p-value (null when unpaired).")
    n_clusters: Int | None = Field(
        default=None, description="Prompts resampled by the clustered test (both conditions' when unpaired)."
    )
    diff_cluster_low: Num = Field(
        default=None, description="Lower 95% item-clustered bootstrap bound of diff."
    )
    diff_cluster_high: Num = Field(
        default=None, description="Upper 95% item-clustered bootstrap bound of diff."
    )
    p_cluster: Num = Field(
        default=None, description="Item-clustered bootstrap p-value of diff ≠ 0 (used for verdicts)."
    )
    n_compared: Int | None = Field(default=None, description="Prompts compared before keeping shifted ones.")
    changed_fraction: Num = Field(
        default=None, description="Share of compared prompts whose property changed."
    )


class AnswerRow(_Model):
    """How the shift moved one task's answers: a collateral-damage and collapse check (not in the paper)."""

    task: str = Field(description="Task (val prompts).")
    shifted: bool = Field(description="Whether the shift set had this task's train prompts.")
    property: str = Field(
        description="Property standing for the answer: identity (the letter), first_word, else the task's first."
    )
    n: Int = Field(description="Prompts both models answered.")
    compliant_old: Num = Field(default=None, description="Share of compliant answers before the shift.")
    compliant_new: Num = Field(default=None, description="Share of compliant answers after the shift.")
    n_compared: Int = Field(description="Prompts where both answers are compliant with a value.")
    changed_fraction: Num = Field(default=None, description="Share of compared prompts whose value changed.")
    top_old: OptStr = Field(default=None, description="Most common value before the shift.")
    top_old_share: Num = Field(default=None, description="Its share among compliant answers before.")
    top_new: OptStr = Field(default=None, description="Most common value after the shift.")
    top_new_share: Num = Field(default=None, description="Its share among compliant answers after.")


class BehaviourChange(_Model):
    """Behaviour change (SPEC §12, Fig. 8) and its entropy-matched control (SPEC §13, Fig. 24)."""

    old_model: str = Field(description="Label of the self-trained model M1 before the shift.")
    new_model: str = Field(description="Label of the shifted model MC.")
    new_ref: str | None = Field(default=None, description="ModelRef of the shifted model MC.")
    shift_data: str | None = Field(default=None, description="What MC was fine-tuned on.")
    n_shifted: Int = Field(
        description="Prompts whose value of a configured property changed (both answers compliant)."
    )
    rows: list[ChangeRow] = Field(description="Per group + average, on all shifted prompts.")
    entropy_matched: list[ChangeRow] | None = Field(
        default=None, description="The same after entropy matching (rows unpaired, p_mcnemar null)."
    )
    train: TrainStats | None = Field(default=None, description="Training statistics of the shift.")
    answers: list[AnswerRow] | None = Field(
        default=None,
        description="Per task, shifted and not: compliance, changed share and most common answer before/after.",
    )


class HygieneCheck(_Model):
    """A data-hygiene check run with every experiment (inward.experiments.hygiene)."""

    check: str = Field(description="What is checked.")
    ok: bool = Field(description="Whether it holds.")
    detail: str = Field(description="Counts behind the answer.")


class ControlPredictor(_Model):
    """One predictor a control sets beside the target predicting itself (a sibling, an input-only classifier,
    a k-shot third party, a paraphrase, ...), scored against the same behaviour on the same prompts."""

    name: str = Field(description='Condition within the control, e.g. "sibling", "k=4", "paraphrase p2".')
    predictor: str = Field(description="Who predicts: a model label, or an input-only rule.")
    model: str | None = Field(
        default=None, description="ModelRef of the predictor (null: no language model)."
    )
    rows: list[AccRow] = Field(description="Accuracy predicting the target, per group + average.")
    tests: list[PairedTest] = Field(
        default_factory=list, description="Target self-prediction (A) vs this predictor (B), same prompts."
    )
    self_rows: list[AccRow] | None = Field(
        default=None,
        description="The target predicting itself under this condition, where the condition changes the self "
        "score too (a paraphrase); null = the control's self_rows.",
    )
    claim: bool = Field(
        default=True, description="Whether the evidence table tests self against this predictor."
    )
    details: dict[str, Any] = Field(
        default_factory=dict, description="Condition-specific facts (k, wording)."
    )
    note: str | None = Field(default=None, description="Caveat a reader must see with this predictor.")


class ControlSection(_Model):
    """A control (../research/CONTROLS.md): the target predicting itself beside the predictors that a self-
    prediction advantage must beat before it counts as privileged access."""

    control: str = Field(description="Experiment name of the control.")
    title: str = Field(description="Short title.")
    question: str = Field(description="The question the control answers.")
    target: str = Field(description="Label of the model whose behaviour is predicted.")
    target_model: str = Field(description="ModelRef of that model.")
    self_rows: list[AccRow] = Field(
        default_factory=list, description="The target predicting itself, per group + average."
    )
    predictors: list[ControlPredictor] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict, description="Control-specific facts and checks.")
    notes: list[str] = Field(default_factory=list, description="What a reader must know to read it.")


class RunInfo(_Model):
    """What was run, how, when and on what."""

    name: str = Field(description="Experiment name.")
    run_id: str = Field(description="Run id in the workspace store.")
    config: dict[str, Any] = Field(default_factory=dict, description="The exact experiment configuration.")
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="inward.store.provenance(): versions, git revision, platform, seeds.",
    )
    started: datetime | None = Field(default=None, description="Start time (ISO 8601).")
    finished: datetime | None = Field(default=None, description="End time (ISO 8601).")
    wall_s: Num = Field(default=None, description="Wall-clock seconds of the whole run.")
    sizes: dict[str, Any] = Field(
        default_factory=dict, description='Counts worth reporting, e.g. {"object_prompts": 3500}.'
    )
    notes: list[str] = Field(default_factory=list, description="Caveats a reader must see.")


Verdict = Literal["supports", "contradicts", "inconclusive", "underpowered"]


class SeedEffect(_Model):
    """One claim's comparison in one training seed."""

    seed: Int = Field(description="Training seed (also draws the training and shift items).")
    effect: Num = Field(description="Effect, oriented so that positive = the paper's claim.")
    ci_low: Num = Field(default=None, description="Lower 95% item-clustered bound.")
    ci_high: Num = Field(default=None, description="Upper 95% item-clustered bound.")
    p: Num = Field(default=None, description="Two-sided item-clustered p-value.")
    se: Num = Field(default=None, description="Standard error (interval width / 3.92).")
    mde: Num = Field(default=None, description="Detectable effect at 80% power, α = 0.05.")
    n: Int | None = Field(default=None, description="Rows (or prompts) compared.")
    verdict: Verdict | None = Field(default=None, description="This seed's verdict alone.")


class EvidenceRow(_Model):
    """One claim of the paper, tested: the comparison, its effect with interval, power and a verdict."""

    key: str = Field(description='Stable id, e.g. "self_vs_cross:m1".')
    claim: str = Field(description="The paper's claim, in words.")
    experiment: str = Field(description="Experiment that measures it.")
    comparison: str = Field(description="What is compared with what, on which prompts.")
    unit: Literal["pp", "mad"] = Field(
        description="pp: accuracy difference (fraction; shown ×100); mad: MAD points (0–100 scale)."
    )
    n: Int | None = Field(default=None, description="Rows (or prompts) compared (first seed).")
    n_clusters: Int | None = Field(default=None, description="Prompts the intervals resample (first seed).")
    effect: Num = Field(description="Mean effect over seeds, positive = the paper's claim.")
    ci_low: Num = Field(
        default=None, description="Lower 95% bound (item-clustered; across seeds: see rules)."
    )
    ci_high: Num = Field(default=None, description="Upper 95% bound.")
    p: Num = Field(default=None, description="Two-sided p-value.")
    se: Num = Field(default=None, description="Standard error of the effect.")
    mde: Num = Field(default=None, description="Smallest effect detectable at 80% power, α = 0.05.")
    paper_effect: Num = Field(default=None, description="The paper's effect for this claim (same unit).")
    paper_source: str | None = Field(default=None, description="Where the paper's effect comes from.")
    verdict: Verdict = Field(description="supports / contradicts / inconclusive / underpowered (see rules).")
    seeds: list[SeedEffect] = Field(default_factory=list, description="Per-seed values.")
    seeds_agree: bool | None = Field(default=None, description="Every seed alone reaches the same verdict.")
    spread: Num = Field(default=None, description="Standard deviation of the effect over seeds.")
    note: str | None = Field(default=None, description="Caveat a reader must see with this row.")


class Evidence(_Model):
    """The evidence table: one row per claim (and per direction, model or panel), verdict rules included."""

    rows: list[EvidenceRow] = Field(default_factory=list)
    rules: dict[str, str] = Field(default_factory=dict, description="Verdict → the rule that gives it.")
    alpha: float = Field(default=0.05, description="Two-sided significance level.")
    power: float = Field(default=0.8, description="Power the detectable effects are computed at.")
    seeds: list[int] = Field(default_factory=list, description="Training seeds the rows combine.")


class SeedNumber(_Model):
    """A headline number over training seeds: mean, spread and the per-seed values."""

    name: str = Field(description='What it is, e.g. "M1 self-trained, self-prediction (average)".')
    experiment: str = Field(description="Experiment it belongs to.")
    unit: Literal["acc", "mad", "pp"] = Field(description="acc/pp: fractions (shown ×100); mad: MAD points.")
    mean: Num = Field(description="Mean over seeds.")
    sd: Num = Field(default=None, description="Sample standard deviation over seeds.")
    values: dict[str, Num] = Field(default_factory=dict, description="Seed → value.")


class SeedRun(_Model):
    """The four experiments of one training seed (the top-level sections are the first seed's)."""

    seed: int
    self_training: SelfTraining | None = None
    cross_prediction: CrossPrediction | None = None
    calibration: Calibration | None = None
    behaviour_change: BehaviourChange | None = None
    controls: dict[str, ControlSection] = Field(default_factory=dict)


class Results(_Model):
    """A whole ``results.json``: run info plus any subset of the four experiments."""

    schema_version: int = Field(default=SCHEMA_VERSION, description="Version of this schema.")
    run: RunInfo = Field(description="Run information.")
    self_training: SelfTraining | None = Field(default=None, description="Fig. 4, or null if not run.")
    cross_prediction: CrossPrediction | None = Field(default=None, description="Fig. 5, or null if not run.")
    calibration: Calibration | None = Field(default=None, description="Fig. 6, or null if not run.")
    behaviour_change: BehaviourChange | None = Field(default=None, description="Fig. 8, or null if not run.")
    controls: dict[str, ControlSection] = Field(
        default_factory=dict, description="Control experiments (name → section), first seed."
    )
    hygiene: list[HygieneCheck] = Field(
        default_factory=list, description="Data-hygiene checks over every training file of the run."
    )
    other: dict[str, Any] = Field(
        default_factory=dict, description="Sections of registered experiments beyond the four (name → JSON)."
    )
    evidence: Evidence | None = Field(default=None, description="The evidence table (one row per claim).")
    seeds: list[int] = Field(
        default_factory=lambda: [0], description="Training seeds run (first = sections above)."
    )
    seed_runs: list[SeedRun] = Field(
        default_factory=list, description="Every seed's sections, when more than one seed ran."
    )
    seed_numbers: list[SeedNumber] = Field(
        default_factory=list, description="Headline numbers as mean, spread and per-seed values."
    )

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """Read and validate a results file; UserError (one line) when it is missing or malformed."""
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"no results file at {p}; run the experiment first (`inward run …`)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise UserError(f"cannot read {p} as JSON ({e}); re-run the experiment to rewrite it") from None
        version = raw.get("schema_version", SCHEMA_VERSION) if isinstance(raw, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise UserError(
                f"{p} has results schema {version}, newer than this inward ({SCHEMA_VERSION}); upgrade inward"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "<root>"
            raise UserError(
                f"{p} is not a valid results file ({e.error_count()} errors; first at {where}: "
                f"{first['msg']}); re-run the experiment to rewrite it"
            ) from None

    @property
    def table(self) -> Any:
        """The evidence table as a pandas DataFrame: one row per claim, with effect, interval, p and verdict."""
        import pandas as pd

        rows = self.evidence.rows if self.evidence else []
        return pd.DataFrame([r.model_dump() for r in rows])

    def summary(self) -> str:
        """The markdown summary the CLI prints after a run (evidence table first)."""
        from inward.report.summary import markdown_summary

        return markdown_summary(self)

    def _repr_html_(self) -> str:
        import html

        return f"<p><b>{html.escape(self.run.name)}</b></p>" + self.table.to_html(index=False, escape=True)

    def save(self, path: str | Path) -> Path:
        """Write as indented JSON atomically (a reader never sees half a file); returns the path."""
        return write_text_atomic(path, self.model_dump_json(indent=2) + "\n")


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to a temp file beside `path`, fsync, then os.replace it over `path`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


class _HasGroup(Protocol):
    group: str


G = TypeVar("G", bound=_HasGroup)


def find_row(rows: Sequence[G] | None, group: str = AVERAGE) -> G | None:
    """The row (AccRow, PairedTest, ChangeRow) of one group, by default the micro-average; None if absent."""
    return next((r for r in rows or () if r.group == group), None)
