"""Calibration (SPEC §11, Fig. 6): how well each model's distribution over hypothetical answers matches the
distribution of M1's object-level behaviour (exact distributions by default, no sampling noise), for the
self-trained M1, the model cross-trained on it, and the untrained M1; and whether self-trained beats
cross-trained on the same prompts (MAD difference with a prompt bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inward import metrics as M
from inward.backends.base import NONE_KEY
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.context import Context
from inward.report import build as B
from inward.report.results import Calibration, CalibrationPanel, MadTest
from inward.runs.distributions import (
    NONCOMPLIANT_KEY,
    distribution_config,
    run_hypothetical_distributions,
    run_object_distributions,
)

COVERAGE_FLOOR = 0.97
"""Calibration compares distributions renormalised over the mass they cover. With coverage c, renormalising moves
any probability by at most 1 − c, so no calibration point (and no bin mean, and no MAD, in ×100 units) moves by
more than 3 points per side at c = 0.97: below the smallest self-vs-cross MAD gap the paper reports (Llama 70B,
among options: 12.9 vs 17.0, SPEC §15.4). A condition covering less is flagged in results.json and the report."""


def dists(
    ctx: Context, model: str, level: str, task: str, prop: str, config: Any
) -> tuple[dict[tuple[str, str, str], dict[str, float]], dict[str, Any]]:
    """Stored distributions as value → probability over the compliant answers with a value (renormalised),
    and their bookkeeping: mean covered mass, mean non-compliant and undefined mass (object level), methods
    used and the sample counts drawn. The paper discards responses too short to have the property; we also
    discard non-compliant ones instead of letting refusals count as a value ("false" for a stance)."""
    df = ctx.readings.distributions(model, level, task, prop, config.key())
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


@register
class CalibrationExperiment(Experiment):
    name = "calibration"
    title = "Calibration"
    extra = False
    after = ("cross_prediction",)

    def conditions(self, ctx: Context) -> list[tuple[str, str, str]]:
        m1 = ctx.cfg.model("m1")
        m1t = ctx.self_trained("m1")
        predictor = next((p for t, p in ctx.cfg.cross_pairs if t == "m1"), None)
        conds = [("self-trained", m1t, m1t)]
        if predictor is not None:
            conds.append(("cross-trained", m1t, ctx.cross_trained("m1", predictor)))
        conds.append(("untrained", m1, m1))
        return conds

    def steps(self, ctx: Context) -> list[tuple[str, str, str]]:
        cfg = ctx.cfg
        obj_cfg = distribution_config("object", cfg.calibration_method, samples=cfg.calibration_samples)
        hypothetical_cfg = distribution_config(
            "hypothetical", cfg.calibration_method, samples=cfg.calibration_samples
        )
        n = cfg.sizes.calibration_items
        conditions = self.conditions(ctx)
        models = sorted({m for _, o, h in conditions for m in (o, h)})
        for panel in cfg.calibration:
            if panel.task not in ctx.eval_tasks:
                continue

            def fn(panel: Any = panel) -> dict[str, Any]:
                for _, obj_model, hypothetical_model in conditions:
                    # Hypotheticals are asked where the greedy answer is usable: make sure it is stored (a
                    # calibration-only experiment runs no other step that asks the untrained M1).
                    ctx.objects(obj_model, [panel.task], n)
                    run_object_distributions(
                        ctx.store,
                        ctx.backend(obj_model),
                        tasks=[panel.task],
                        properties=[panel.property],
                        split="val",
                        limit=n,
                        template=ctx.template,
                        config=obj_cfg,
                    )
                    run_hypothetical_distributions(
                        ctx.store,
                        ctx.backend(hypothetical_model),
                        tasks=[panel.task],
                        properties=[panel.property],
                        about=ctx.model_id(obj_model),
                        split="val",
                        limit=n,
                        template=ctx.template,
                        config=hypothetical_cfg,
                        object_config=ctx.object_config(obj_model),
                    )
                return {}

            ctx.evaluated.update(models)
            ctx.step(
                f"calibration {panel.task} {panel.property}",
                {
                    "panel": panel.model_dump(),
                    "n": n,
                    "method": cfg.calibration_method,
                    "dist": [obj_cfg.key(), hypothetical_cfg.key()],
                    "models": models,
                    "ids": ctx.identity_inputs(*models),
                },
                fn,
                kind="distributions",
                model=conditions[0][1],
                rows=n * 2 * len(conditions),
            )
        return conditions

    def analyse(self, ctx: Context, done: list[tuple[str, str, str]]) -> Calibration:
        cfg = ctx.cfg
        method = cfg.calibration_method
        obj_cfg = distribution_config("object", method, samples=cfg.calibration_samples)
        hypothetical_cfg = distribution_config("hypothetical", method, samples=cfg.calibration_samples)
        panels = []
        for panel in cfg.calibration:
            if panel.task not in ctx.eval_tasks:
                continue
            conds = []
            n_prompts = 0
            samples: list[int] = []
            loaded: dict[str, tuple[dict[Any, Any], dict[Any, Any]]] = {}
            for label, obj_model, hypothetical_model in done:
                od, oinfo = dists(ctx, obj_model, "object", panel.task, panel.property, obj_cfg)
                md, minfo = dists(
                    ctx, hypothetical_model, "hypothetical", panel.task, panel.property, hypothetical_cfg
                )
                loaded[label] = (od, md)
                points = M.calibration_points(od, md, rules=ctx.rules)
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
                    label, points, object_model=obj_model, hypothetical_model=hypothetical_model
                )
                conds.append(
                    cond.model_copy(
                        update={
                            "n_prompts": shared,
                            "object_coverage": cov_o,
                            "hypothetical_coverage": cov_m,
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
                    self_vs_cross=self_vs_cross(ctx, loaded),
                )
            )
        return Calibration(target=ctx.label(done[0][1]), panels=panels)

    def claims(self, section: Calibration) -> list[Claim]:
        out = []
        for panel in section.panels:
            t = panel.self_vs_cross
            if t is None:
                continue
            out.append(
                Claim(
                    key=f"calibration:{panel.task}:{panel.property}",
                    claim=f"The self-trained model is better calibrated about itself ({panel.property})",
                    comparison=f"MAD of {section.target} vs the cross-trained model's hypothetical distribution, "
                    f"{panel.task}, same prompts",
                    unit="mad",
                    effect=t.diff,
                    ci_low=t.ci_low,
                    ci_high=t.ci_high,
                    p=t.p,
                    n=t.n_prompts,
                    n_clusters=t.n_prompts,
                    paper="calibration",
                    paper_property=panel.property,
                    note="Low coverage: see the panel." if panel.low_coverage else None,
                )
            )
        return out

    def numbers(self, section: Calibration) -> list[Number]:
        return [
            Number(f"MAD {p.task} {p.property}, {c.label}", "mad", c.mad)
            for p in section.panels
            for c in p.conditions
        ]


def self_vs_cross(ctx: Context, loaded: dict[str, tuple[dict[Any, Any], dict[Any, Any]]]) -> MadTest | None:
    """MAD difference cross − self on the prompts both hypothetical distributions and the object one share."""
    if "self-trained" not in loaded or "cross-trained" not in loaded:
        return None
    od, self_md = loaded["self-trained"]
    _, cross_md = loaded["cross-trained"]
    if not (set(od) & set(self_md) & set(cross_md)):
        return None
    d = M.mad_difference(od, self_md, cross_md, rules=ctx.rules, seed=ctx.seed)
    return MadTest(
        a="self-trained",
        b="cross-trained",
        mad_a=d.mad_self,
        mad_b=d.mad_cross,
        diff=d.diff,
        ci_low=d.ci_low,
        ci_high=d.ci_high,
        p=d.p,
        se=d.se,
        n_prompts=d.n_prompts,
    )
