"""Snapshot asymmetry: the paper's cross-predictors learn from the *self-trained* target's behaviour, the same
snapshot they are scored against, while the self-trained target itself was trained on its *untrained* behaviour.
This control trains each cross-predictor on both snapshots and reports them side by side, with the share of
held-out behaviour that self-training changed: where self-training changed little, the two should agree; where
it changed much, a cross-predictor trained on the old snapshot is predicting a model that no longer exists."""

from __future__ import annotations

from inward import metrics as M
from inward.experiments.base import register
from inward.experiments.context import Context
from inward.experiments.controls._base import Control, scored_predictor, self_target
from inward.report.results import ControlSection
from inward.training.datasets import read_dataset


def _pairs(path: object) -> dict[tuple[str, str, str], str]:
    rows, _ = read_dataset(path)  # type: ignore[arg-type]
    return {
        (r["inward"]["task"], r["inward"]["item_id"], r["inward"]["property"]): str(
            r["messages"][-1]["content"]
        )
        for r in rows
    }


@register
class SnapshotControl(Control):
    name = "snapshot"
    title = "Snapshot asymmetry"
    question = (
        "Does the cross-predictor's result depend on which snapshot of the target's behaviour it was trained on "
        "(after self-training, as the paper, or before)?"
    )

    def steps(self, ctx: Context) -> tuple[str, str, list[tuple[str, str, str]]]:
        role, tt = self_target(ctx)
        base = ctx.cfg.model(role)
        ctx.evaluate(base, base)  # the untrained target's held-out behaviour (shared with self-training)
        out = []
        for target, predictor in ctx.cfg.cross_pairs:
            if target != role:
                continue
            for snap in ("trained", "untrained"):
                pc = ctx.cross_trained(role, predictor, snapshot=snap)  # type: ignore[arg-type]
                ctx.evaluate(tt, pc)
                out.append((snap, str(predictor), pc))
        return role, tt, out

    def analyse(self, ctx: Context, done: tuple[str, str, list[tuple[str, str, str]]]) -> ControlSection:
        role, tt, preds = done
        r = ctx.readings
        self_sc = r.scored(tt, tt)
        old, new = r.objects(ctx.cfg.model(role), tt)
        changed = M.changed_fractions(old, new, properties=ctx.property_names)
        avg = changed[changed["group"] == "average"].iloc[0]
        a, b = _pairs(ctx.cross_data(role)), _pairs(ctx.cross_data(role, "untrained"))
        shared = set(a) & set(b)
        differ = sum(a[k].strip().lower() != b[k].strip().lower() for k in shared)
        out = []
        for snap, predictor, pc in preds:
            out.append(
                scored_predictor(
                    ctx,
                    tt,
                    self_sc,
                    r.scored(tt, pc),
                    name=f"{predictor} on the {snap} snapshot",
                    predictor=f"{ctx.label(pc)} (trained on the {snap} target's behaviour)",
                    model=pc,
                    # the trained-snapshot predictor is the cross-prediction experiment's own row
                    claim=snap == "untrained",
                )
            )
        return self.section(
            ctx,
            tt,
            self_rows=r.accuracy(self_sc, tt),
            predictors=out,
            details={
                "held_out_changed_by_self_training": {
                    "n_compared": int(avg["n_compared"]),
                    "n_changed": int(avg["n_changed"]),
                    "changed_fraction": None
                    if avg["changed_fraction"] is None
                    else float(avg["changed_fraction"]),
                },
                "cross_pairs_differing_between_snapshots": {"n": len(shared), "differ": differ},
            },
            notes=[
                "Both predictors see the same items and property composition; only the labels differ, taken from "
                "the target before and after self-training.",
            ],
        )
