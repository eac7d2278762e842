"""The numbers of each experiment, computed from the store with `inward.metrics` (no model calls except the
distribution runs of the calibration experiment, which are cached like everything else)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from inward import metrics as M
from inward.runs.distributions import run_meta_distributions, run_object_distributions
from inward.runs.score import load_meta, load_object, scored_table

NONE_KEYS = ("__none__",)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if hasattr(v, "item"):
            return v.item()
        return v

    return [{k: clean(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def acc_rows(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """Accuracy per reporting group + micro-average, with the mode baseline and hypothetical compliance."""
    acc = M.accuracy(scored)
    base = M.mode_baseline(scored)[["group", "acc"]].rename(columns={"acc": "baseline"})
    comp = M.compliance_rates(scored)[["group", "rate"]].rename(columns={"rate": "compliance"})
    return _records(acc.merge(base, on="group", how="left").merge(comp, on="group", how="left"))


def _scored(p: Any, object_model: str, meta_model: str) -> pd.DataFrame:
    return scored_table(p.store, object_model=object_model, meta_model=meta_model, tasks=p.eval_tasks,
                        properties=p.cfg.properties, template=p.template)


def self_training(p: Any, models: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Fig. 4: untrained vs self-trained self-prediction on held-out tasks, on the prompts both conditions have."""
    out = []
    for base, trained, label in models:
        before, after = M.intersect(_scored(p, base, base), _scored(p, trained, trained))
        test = M.paired_test(after, before)
        out.append({
            "label": label,
            "model": base,
            "trained_model": trained,
            "untrained": acc_rows(before),
            "trained": acc_rows(after),
            "test": test.as_dict(),
            "training": p.trained.get(f"{label}-self"),
        })
    return {"models": out}


def cross_prediction(p: Any, pairs: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """Fig. 5: M1 predicting itself vs M2 (trained on M1's behaviour) predicting M1, on the same prompts."""
    out = []
    for target, cross, tl, cl in pairs:
        self_sc, cross_sc = M.intersect(_scored(p, target, target), _scored(p, target, cross))
        tests = M.paired_tests(self_sc, cross_sc)
        out.append({
            "target_label": tl,
            "target": target,
            "self": acc_rows(self_sc),
            "cross": [{"label": cl, "model": cross, "rows": acc_rows(cross_sc), "tests": _records(tests),
                       "training": p.trained.get(f"{cl}-cross-{tl}")}],
        })
    return {"targets": out}


def _dists(p: Any, model: str, level: str, task: str, prop: str, method: str) -> dict[tuple[str, str, str], dict[str, float]]:
    df = p.store.distributions(model=model, level=level, task=task, property=prop)
    if df.empty:
        return {}
    df = df[df["method"] == method] if method != "exact" else df[df["method"].isin(["exact"])]
    out = {}
    for item_id, probs in zip(df["item_id"], df["probs"], strict=True):
        if level == "object":
            probs = {k: v for k, v in probs.items() if k not in NONE_KEYS}
        total = sum(probs.values())
        if total > 0:
            out[(task, item_id, prop)] = {k: v / total for k, v in probs.items()}
    return out


def calibration(p: Any, *, m1: str, m1t: str, m2c: str) -> dict[str, Any]:
    """Fig. 6: how well each model's hypothetical distribution matches M1's object-level distribution."""
    method = p.cfg.calibration_method
    n = p.cfg.sizes.calibration_items
    conditions = [("self-trained", m1t, m1t), ("cross-trained", m1t, m2c), ("untrained", m1, m1)]
    panels = []
    for panel in p.cfg.calibration:
        if panel.task not in p.eval_tasks:
            continue

        def fn(panel: Any = panel) -> dict[str, Any]:
            for obj_model, meta_model in {(o, m) for _, o, m in conditions}:
                run_object_distributions(p.store, p.backend(obj_model), tasks=[panel.task], properties=[panel.property],
                                         split="val", limit=n, template=p.template, method=method)
                run_meta_distributions(p.store, p.backend(meta_model), tasks=[panel.task], properties=[panel.property],
                                       about=obj_model, split="val", limit=n, template=p.template, method=method)
            return {}

        p.step(f"calibration {panel.task} {panel.property}", {"panel": panel.model_dump(), "n": n, "method": method,
                                                             "models": [m1, m1t, m2c]}, fn)
        conds = []
        for label, obj_model, meta_model in conditions:
            od = _dists(p, obj_model, "object", panel.task, panel.property, method)
            md = _dists(p, meta_model, "meta", panel.task, panel.property, method)
            points = M.calibration_points(od, md)
            if points.empty:
                continue
            by_rank = M.calibration_mad_by_rank(points)
            conds.append({
                "label": label,
                "object_model": obj_model,
                "meta_model": meta_model,
                "mad": float(M.calibration_mad(points)),
                "mad_by_rank": {k: (None if isinstance(v, float) and math.isnan(v) else float(v)) for k, v in dict(by_rank).items()},
                "curve": _records(M.calibration_curve(points)),
                "prompts": len({k for k in od if k in md}),
            })
        panels.append({"task": panel.task, "property": panel.property, "method": method, "conditions": conds})
    return {"panels": panels}


def behaviour_change(p: Any, *, m1t: str, mc: str, source: str) -> dict[str, Any]:
    """Fig. 8: after shifting M1's behaviour, does it predict its new behaviour or its old one?"""
    old = load_object(p.store, m1t, tasks=p.eval_tasks, template=p.template)
    new = load_object(p.store, mc, tasks=p.eval_tasks, template=p.template)
    meta = load_meta(p.store, mc, tasks=p.eval_tasks, properties=p.cfg.properties, template=p.template)
    cols = ["task", "item_id", "properties", "compliance"]
    res = M.behaviour_change(old[cols], new[cols], meta)
    adj = M.behaviour_change(old[cols], new[cols], meta, adjust_entropy=True)
    changed = _changed_fraction(old[cols], new[cols])
    return {
        "old_model": m1t,
        "new_model": mc,
        "source": source,
        "shifted_prompts": int(len(res.shifted)),
        "rows": _records(res.summary),
        "test": res.test.as_dict() if res.test is not None else None,
        "entropy_matched": _records(adj.summary),
        "changed": changed,
        "training": p.trained.get("m1-shifted"),
    }


def _changed_fraction(old: pd.DataFrame, new: pd.DataFrame) -> list[dict[str, Any]]:
    """Share of prompts (both compliant, value defined) whose property value changed, per group + overall."""
    a = M.compliant_object_rows(old).rename(columns={"value": "old"})
    b = M.compliant_object_rows(new).rename(columns={"value": "new"})
    both = a[[*M.KEY, "old"]].merge(b[[*M.KEY, "new"]], on=list(M.KEY))
    both = both[both["property"] != "identity"]
    both["group"] = [M.reporting_group(x) for x in both["property"]]
    both["changed"] = both["old"] != both["new"]
    rows = [{"group": g, "n": len(s), "changed": float(s["changed"].mean())} for g, s in both.groupby("group")]
    rows.append({"group": M.AVERAGE, "n": len(both), "changed": float(both["changed"].mean()) if len(both) else None})
    return rows
