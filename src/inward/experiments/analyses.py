"""The numbers of each experiment, computed from the store with `inward.metrics` and packed into the
`results.json` schema of `inward.report` (no model calls, except the distribution runs of the calibration
experiment, which are cached and resumable like everything else)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from inward import metrics as M
from inward import tasks as T
from inward.backends.base import NONE_KEY
from inward.report import build as B
from inward.report.results import (
    AnswerRow,
    BehaviourChange,
    Calibration,
    CalibrationPanel,
    CrossPrediction,
    CrossPredictor,
    CrossTarget,
    SelfTraining,
    SelfTrainingModel,
    TrainStats,
)
from inward.runs.distributions import run_meta_distributions, run_object_distributions
from inward.runs.score import load_meta, load_object, scored_table

OBJECT_COLUMNS = ["task", "item_id", "properties", "compliance"]


def acc_rows(
    scored: pd.DataFrame, *, rules: Any = M.DEFAULT_RULES, object_rows: pd.DataFrame | None = None
) -> list[Any]:
    """Accuracy per reporting group + micro-average, with the mode baseline and hypothetical compliance.
    `object_rows` (the object model's table) is where paper-code rules take the mode from."""
    return B.acc_rows(
        M.accuracy(scored),
        baseline=M.mode_baseline(scored, rules=rules, object_rows=object_rows),
        compliance=M.compliance_rates(scored),
    )


def train_stats(rec: dict[str, Any] | None) -> TrainStats | None:
    """Deterministic training figures only: wall time and examples/s go to timings.json (see runner.render),
    so that results.json of an interrupted-and-resumed run is byte-identical to an uninterrupted one."""
    if not rec:
        return None
    return TrainStats(examples=rec["n_train"], final_loss=rec.get("final_train_loss"))


def _scored(p: Any, object_model: str, meta_model: str) -> pd.DataFrame:
    return scored_table(
        p.store,
        object_model=p.model_id(object_model),
        meta_model=p.model_id(meta_model),
        tasks=p.eval_tasks,
        properties=p.cfg.properties,
        template=p.template,
        object_config=p.object_config(object_model),
        rules=p.rules,
    )


def _acc(p: Any, scored: pd.DataFrame, object_model: str) -> list[Any]:
    # Only paper-code rules take the mode from the object table; the default never reads it.
    rows = object_tables(p, object_model)[0] if p.rules.mode_over_all_object_rows else None
    return acc_rows(scored, rules=p.rules, object_rows=rows)


def self_training(p: Any, models: list[tuple[str, str, str]]) -> SelfTraining:
    """Fig. 4: untrained vs self-trained self-prediction on held-out tasks, on the prompts both conditions have."""
    out = []
    for base, trained, label in models:
        before, after = M.intersect(_scored(p, base, base), _scored(p, trained, trained))
        out.append(
            SelfTrainingModel(
                model=base,
                label=p.label(base),
                trained_model=trained,
                untrained=_acc(p, before, base),
                trained=_acc(p, after, trained),
                train=train_stats(p.trained.get(f"{label}-self")),
                tests=B.paired_rows(M.paired_tests(after, before)),
            )
        )
    return SelfTraining(models=out, tasks=list(p.eval_tasks))


def cross_prediction(p: Any, pairs: list[tuple[str, str, str, str]]) -> CrossPrediction:
    """Fig. 5: M1 predicting itself vs M2 (trained on M1's behaviour) predicting M1, on the same prompts."""
    out = []
    for target, cross, tl, cl in pairs:
        self_sc, cross_sc = M.intersect(_scored(p, target, target), _scored(p, target, cross))
        out.append(
            CrossTarget(
                model=target,
                label=p.label(target),
                self_rows=_acc(p, self_sc, target),
                cross=[
                    CrossPredictor(
                        model=cross,
                        label=p.label(cross),
                        rows=_acc(p, cross_sc, target),
                        tests=B.paired_rows(M.paired_tests(self_sc, cross_sc)),
                        train=train_stats(p.trained.get(f"{cl}-cross-{tl}")),
                    )
                ],
            )
        )
    return CrossPrediction(targets=out, tasks=list(p.eval_tasks))


COVERAGE_FLOOR = 0.97
"""Calibration compares distributions renormalised over the mass they cover. With coverage c, renormalising moves
any probability by at most 1 − c, so no calibration point (and no bin mean, and no MAD, in ×100 units) moves by
more than 3 points per side at c = 0.97: below the smallest self-vs-cross MAD gap the paper reports (Llama 70B,
among options: 12.9 vs 17.0, SPEC §15.4). A condition covering less is flagged in results.json and the report."""


def _dists(
    p: Any, model: str, level: str, task: str, prop: str, config: Any
) -> tuple[dict[tuple[str, str, str], dict[str, float]], dict[str, Any]]:
    """Stored distributions as value → probability over the compliant answers with a value (renormalised),
    and their bookkeeping: mean covered mass, mean non-compliant and undefined mass (object level), methods
    used and the sample counts drawn. The paper discards responses too short to have the property; we also
    discard non-compliant ones instead of letting refusals count as a value ("false" for a stance)."""
    from inward.runs.distributions import NONCOMPLIANT_KEY

    df = p.store.distributions(
        model_id=p.model_id(model).key, level=level, task=task, property=prop, config_key=config.key()
    )
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    info: dict[str, Any] = {"covered": [], "noncompliant": [], "undefined": [], "methods": {}, "samples": []}
    for item_id, probs, covered, method, n_samples in zip(
        df.get("item_id", []),
        df.get("probs", []),
        df.get("covered", []),
        df.get("method", []),
        df.get("n_samples", []),
        strict=True,
    ):
        info["covered"].append(float(covered) if covered is not None else 1.0)
        info["methods"][method] = info["methods"].get(method, 0) + 1
        if n_samples:
            info["samples"].append(int(n_samples))
        if level == "object":
            info["noncompliant"].append(float(probs.get(NONCOMPLIANT_KEY, 0.0)))
            info["undefined"].append(float(probs.get(NONE_KEY, 0.0)))
            probs = {k: v for k, v in probs.items() if k not in (NONE_KEY, NONCOMPLIANT_KEY)}
        total = sum(probs.values())
        if total > 0:
            out[(task, item_id, prop)] = {k: v / total for k, v in probs.items()}
    return out, info


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def calibration(p: Any, *, m1: str, m1t: str, m2c: str) -> Calibration:
    """Fig. 6: how well each model's hypothetical distribution matches M1's object-level distribution."""
    from inward.runs.distributions import distribution_config

    method = p.cfg.calibration_method
    obj_cfg = distribution_config("object", method, samples=p.cfg.calibration_samples)
    meta_cfg = distribution_config("meta", method, samples=p.cfg.calibration_samples)
    n = p.cfg.sizes.calibration_items
    conditions = [("self-trained", m1t, m1t), ("cross-trained", m1t, m2c), ("untrained", m1, m1)]
    panels = []
    for panel in p.cfg.calibration:
        if panel.task not in p.eval_tasks:
            continue

        def fn(panel: Any = panel) -> dict[str, Any]:
            for _, obj_model, meta_model in conditions:
                # Hypotheticals are asked where the greedy answer is usable: make sure it is stored (a
                # calibration-only experiment runs no other step that asks the untrained M1).
                p._objects(obj_model, [panel.task], n)
                run_object_distributions(
                    p.store,
                    p.backend(obj_model),
                    tasks=[panel.task],
                    properties=[panel.property],
                    split="val",
                    limit=n,
                    template=p.template,
                    config=obj_cfg,
                )
                run_meta_distributions(
                    p.store,
                    p.backend(meta_model),
                    tasks=[panel.task],
                    properties=[panel.property],
                    about=p.model_id(obj_model),
                    split="val",
                    limit=n,
                    template=p.template,
                    config=meta_cfg,
                    object_config=p.object_config(obj_model),
                )
            return {}

        p.step(
            f"calibration {panel.task} {panel.property}",
            {
                "panel": panel.model_dump(),
                "n": n,
                "method": method,
                "dist": [obj_cfg.key(), meta_cfg.key()],
                "models": [m1, m1t, m2c],
                "ids": p.identity_inputs(m1, m1t, m2c),
            },
            fn,
        )
        conds = []
        n_prompts = 0
        samples: list[int] = []
        for label, obj_model, meta_model in conditions:
            od, oinfo = _dists(p, obj_model, "object", panel.task, panel.property, obj_cfg)
            md, minfo = _dists(p, meta_model, "meta", panel.task, panel.property, meta_cfg)
            points = M.calibration_points(od, md, rules=p.rules)
            if points.empty:
                continue
            shared = len(set(od) & set(md))
            n_prompts = max(n_prompts, shared)
            samples += oinfo["samples"] + minfo["samples"]
            methods = dict(oinfo["methods"])
            for k, v in minfo["methods"].items():
                methods[k] = methods.get(k, 0) + v
            cov_o, cov_m = _mean(oinfo["covered"]), _mean(minfo["covered"])
            low = any(c is not None and c < COVERAGE_FLOOR for c in (cov_o, cov_m))
            cond = B.calibration_condition(
                label, points, object_model=obj_model, hypothetical_model=meta_model
            )
            conds.append(
                cond.model_copy(
                    update={
                        "n_prompts": shared,
                        "object_coverage": cov_o,
                        "meta_coverage": cov_m,
                        "object_noncompliant": _mean(oinfo["noncompliant"]),
                        "object_undefined": _mean(oinfo["undefined"]),
                        "methods": dict(sorted(methods.items())),
                        "low_coverage": low,
                    }
                )
            )
        panels.append(
            CalibrationPanel(
                task=panel.task,
                property=panel.property,
                n_prompts=n_prompts,
                method=method,
                samples=max(samples) if samples else None,
                conditions=conds,
                coverage_floor=COVERAGE_FLOOR,
                low_coverage=any(c.low_coverage for c in conds),
            )
        )
    return Calibration(target=p.label(m1t), panels=panels)


def object_tables(p: Any, *models: str, tasks: list[str] | None = None) -> list[pd.DataFrame]:
    """The stored val behaviour of each model on the pipeline's held-out tasks, in the metrics' object format."""
    return [
        load_object(
            p.store,
            p.model_id(m),
            tasks=tasks or p.eval_tasks,
            template=p.template,
            config=p.object_config(m),
        )[OBJECT_COLUMNS]
        for m in models
    ]


def behaviour_change(
    p: Any, *, m1t: str, mc: str, source: str, unrelated: Sequence[str] = ()
) -> BehaviourChange:
    """Fig. 8: after shifting M1's behaviour, does it predict its new behaviour or its old one? Also how the
    shift moved the answers of each shifted task and of the `unrelated` ones (collateral / collapse check)."""
    old, new = object_tables(p, m1t, mc)
    meta = load_meta(
        p.store, p.model_id(mc), tasks=p.eval_tasks, properties=p.cfg.properties, template=p.template
    )
    # Object rows carry every property of a task; count only the configured ones.
    changed = M.changed_fractions(old, new, properties=p.property_names)
    res = M.behaviour_change(old, new, meta, rules=p.rules)
    adj = M.behaviour_change(old, new, meta, adjust_entropy=True, rules=p.rules)
    return BehaviourChange(
        old_model=p.label(m1t),
        new_model=p.label(mc),
        shift_data=f"{p.cfg.sizes.shift_rows} object-level answers of {p.label(source)} on train prompts of the "
        f"held-out tasks (+{p.cfg.sizes.shift_self_distill:.0%} self-distilled rows)",
        n_shifted=int(changed["n_changed"].iloc[-1]),  # the average row: configured properties only
        rows=B.change_rows(res.summary, changed=changed),
        entropy_matched=B.change_rows(adj.summary, changed=changed),
        train=train_stats(p.trained.get("m1-shifted")),
        answers=answer_rows(p, m1t, mc, shifted=p.eval_tasks, unrelated=unrelated),
    )


def answer_rows(
    p: Any, old_model: str, new_model: str, *, shifted: Sequence[str], unrelated: Sequence[str]
) -> list[AnswerRow]:
    """`M.answer_drift` of the shifted tasks, then the unrelated ones."""
    tasks = [*shifted, *unrelated]
    old, new = object_tables(p, old_model, new_model, tasks=tasks)
    drift = M.answer_drift(old, new, {t: M.answer_property(T.get(t).properties) for t in tasks})
    return [
        AnswerRow.model_validate({**r, "shifted": r["task"] in shifted}) for r in drift.to_dict("records")
    ]
