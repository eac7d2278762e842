"""Turn the tables of `inward.metrics` into `results.json` models, so a runner never maps columns by hand.

    from inward import metrics as M
    from inward.report import build as B
    rows = B.acc_rows(M.accuracy(scored), baseline=M.mode_baseline(scored),
                      compliance=M.compliance_rates(scored))
    tests = B.paired_rows(M.paired_tests(self_scored, cross_scored))      # or one M.PairedTest
    bc = M.behaviour_change(old_obj, new_obj, new_hypothetical)
    rows = B.change_rows(bc.summary, changed=M.changed_fractions(old_obj, new_obj))
    cond = B.calibration_condition("self-trained", M.calibration_points(obj_dists, hypothetical_dists))

Every converter keeps the table's row order (the metrics put groups in sorted order and "average" last).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from inward import metrics as M
from inward.report.results import (
    AVERAGE,
    AccRow,
    CalibrationCondition,
    ChangeRow,
    CurvePoint,
    PairedTest,
)


def _lookup(table: pd.DataFrame | None, group_col: str, value_col: str) -> dict[str, Any]:
    if table is None or table.empty:
        return {}
    return dict(zip(table[group_col].astype(str), table[value_col], strict=True))


def acc_rows(
    accuracy: pd.DataFrame,
    *,
    baseline: pd.DataFrame | None = None,
    compliance: pd.DataFrame | None = None,
    group_col: str = "group",
) -> list[AccRow]:
    """Rows of `M.accuracy`, with ``baseline`` from `M.mode_baseline` (its ``acc``) and ``compliance`` from
    `M.compliance_rates` (its ``rate``) matched on the group column."""
    base = _lookup(baseline, group_col, "acc")
    comp = _lookup(compliance, group_col, "rate")
    out = []
    for rec in accuracy.to_dict(orient="records"):
        group = str(rec[group_col])
        out.append(
            AccRow(
                group=group,
                n=rec["n"],
                k=rec.get("k"),
                acc=rec["acc"],
                ci_low=rec.get("ci_low"),
                ci_high=rec.get("ci_high"),
                wilson_low=rec.get("wilson_low"),
                wilson_high=rec.get("wilson_high"),
                boot_low=rec.get("boot_low"),
                boot_high=rec.get("boot_high"),
                n_clusters=rec.get("n_clusters"),
                cluster_low=rec.get("cluster_low"),
                cluster_high=rec.get("cluster_high"),
                baseline=base.get(group),
                compliance=comp.get(group),
            )
        )
    return out


def paired_rows(tests: pd.DataFrame | M.PairedTest, *, group_col: str = "group") -> list[PairedTest]:
    """Rows of `M.paired_tests` (one per group + average), or a single `M.PairedTest` as the average."""
    if isinstance(tests, M.PairedTest):
        return [PairedTest(group=AVERAGE, **tests.as_dict())]
    fields = set(PairedTest.model_fields) - {"group"}
    return [
        PairedTest(group=str(rec[group_col]), **{k: v for k, v in rec.items() if k in fields})
        for rec in tests.to_dict(orient="records")
    ]


def change_rows(
    summary: pd.DataFrame, *, changed: pd.DataFrame | None = None, group_col: str = "group"
) -> list[ChangeRow]:
    """Rows of `M.behaviour_change(...).summary`, with ``n_compared``/``changed_fraction`` from
    `M.changed_fractions` when given."""
    n_compared = _lookup(changed, group_col, "n_compared")
    fraction = _lookup(changed, group_col, "changed_fraction")
    out = []
    for rec in summary.to_dict(orient="records"):
        group = str(rec[group_col])
        out.append(
            ChangeRow(
                group=group,
                n=rec["n"],
                acc_old=rec["acc_old"],
                old_ci_low=rec.get("old_ci_low"),
                old_ci_high=rec.get("old_ci_high"),
                old_wilson_low=rec.get("old_wilson_low"),
                old_wilson_high=rec.get("old_wilson_high"),
                acc_new=rec["acc_new"],
                new_ci_low=rec.get("new_ci_low"),
                new_ci_high=rec.get("new_ci_high"),
                new_wilson_low=rec.get("new_wilson_low"),
                new_wilson_high=rec.get("new_wilson_high"),
                old_cluster_low=rec.get("old_cluster_low"),
                old_cluster_high=rec.get("old_cluster_high"),
                new_cluster_low=rec.get("new_cluster_low"),
                new_cluster_high=rec.get("new_cluster_high"),
                baseline_old=rec.get("mode_old"),
                baseline_new=rec.get("mode_new"),
                diff=rec.get("diff"),
                diff_ci_low=rec.get("ci_low"),
                diff_ci_high=rec.get("ci_high"),
                p_bootstrap=rec.get("p_bootstrap"),
                p_mcnemar=rec.get("p_mcnemar"),
                n_clusters=rec.get("n_clusters"),
                diff_cluster_low=rec.get("cluster_ci_low"),
                diff_cluster_high=rec.get("cluster_ci_high"),
                p_cluster=rec.get("p_cluster"),
                n_compared=n_compared.get(group),
                changed_fraction=fraction.get(group),
            )
        )
    return out


def calibration_condition(
    label: str,
    points: pd.DataFrame,
    *,
    bins: int = 10,
    top_k: int = 3,
    object_model: str | None = None,
    hypothetical_model: str | None = None,
) -> CalibrationCondition:
    """MAD, MAD per rank and the binned curve of `M.calibration_points` output, as one plotted condition."""
    by_rank: dict[str, float | None] = dict(M.calibration_mad_by_rank(points, bins, top_k=top_k))
    curve = M.calibration_curve(points, bins)
    return CalibrationCondition(
        label=label,
        object_model=object_model,
        hypothetical_model=hypothetical_model,
        mad=by_rank.pop("all"),
        mad_by_rank=by_rank,
        curve=[CurvePoint.model_validate(rec) for rec in curve.to_dict(orient="records")],
    )
