"""The numbers a researcher would quote, as markdown (for a terminal, a PR or a paper draft).

    from inward.report import Results, markdown_summary, headlines
    print(markdown_summary(Results.load("runs/demo/results.json")))
    headlines(results)     # one plain-text sentence per finding (the HTML page's headline list)

Accuracies are micro-averages over all evaluated rows with two 95% CIs: ±1.96·SEM (the paper's, rows as
independent) and an item-clustered bootstrap (prompts resampled, so the correlated properties of one answer
move together); ⋆ is the mode baseline of the same rows; p-values are two-sided (item-clustered bootstrap, which
the verdicts use, then the row bootstrap and exact McNemar); MADs are ×100.
"""

from __future__ import annotations

from collections.abc import Sequence

from inward.report import _format as F
from inward.report.results import (
    AccRow,
    AnswerRow,
    BehaviourChange,
    Calibration,
    ChangeRow,
    CrossPrediction,
    PairedTest,
    Results,
    SelfTraining,
    find_row,
)


def _md(s: str) -> str:
    # Labels are user data: a "|" or newline would break the table.
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _acc(row: AccRow | None) -> str:
    return "n/a" if row is None else F.acc_ci(row)


def _base(row: AccRow | None) -> str:
    return "n/a" if row is None else F.pct(row.baseline)


def _clu(row: AccRow | None) -> str:
    return "n/a" if row is None else F.cluster_ci(row)


def _verdict(t: PairedTest | ChangeRow | None) -> str:
    """``+16.0 pp, item-clustered bootstrap p=0.012``: a headline's difference and the p it is judged by."""
    return f"{F.pp(t.diff if t else None)}, {F.verdict_name(t)} {F.fmt_p(F.verdict_p(t))}"


SEM = "±1.96·SEM (paper, rows)"
CLU = "item-clustered bootstrap"


def self_training_lines(st: SelfTraining) -> list[str]:
    header = [
        "model",
        f"untrained {SEM}",
        CLU,
        "baseline",
        f"self-trained {SEM}",
        CLU,
        "baseline",
        f"Δ trained − untrained [{CLU}]",
        F.P_COLUMNS,
        "n",
    ]
    rows = []
    for m in st.models:
        before, after, t = find_row(m.untrained), find_row(m.trained), find_row(m.tests)
        n = after.n if after else None
        rows.append(
            [
                _md(m.label),
                _acc(before),
                _clu(before),
                _base(before),
                _acc(after),
                _clu(after),
                _base(after),
                F.verdict_diff(t),
                F.p_values(t),
                F.count(n),
            ]
        )
    return ["### Self-prediction training (Fig. 4)", "", *_table(header, rows)]


def cross_prediction_lines(cp: CrossPrediction) -> list[str]:
    header = [
        "target",
        "predictor",
        f"accuracy {SEM}",
        CLU,
        "baseline",
        f"Δ self − cross [{CLU}]",
        F.P_COLUMNS,
        "n",
    ]
    rows = []
    for tg in cp.targets:
        own = find_row(tg.self_rows)
        n_own = F.count(own.n if own else None)
        rows.append([_md(tg.label), "self", _acc(own), _clu(own), _base(own), "", "", n_own])
        for c in tg.cross:
            r, t = find_row(c.rows), find_row(c.tests)
            rows.append(
                [
                    _md(tg.label),
                    _md(c.label),
                    _acc(r),
                    _clu(r),
                    _base(r),
                    F.verdict_diff(t),
                    F.p_values(t),
                    F.count(r.n if r else None),
                ]
            )
    return ["### Cross-prediction (Fig. 5)", "", *_table(header, rows)]


def calibration_lines(cal: Calibration) -> list[str]:
    labels: list[str] = []
    for p in cal.panels:
        labels += [c.label for c in p.conditions if c.label not in labels]
    header = ["task · property", *(_md(x) for x in labels), "prompts", "min covered mass", "method"]
    rows = []
    for p in cal.panels:
        by = {c.label: c for c in p.conditions}
        cells = [F.mad(by[x].mad) + (" ⚠" if by[x].low_coverage else "") if x in by else "" for x in labels]
        covs = [x for c in p.conditions for x in (c.object_coverage, c.meta_coverage) if x is not None]
        cov = f"{min(covs):.3f}" if covs else "—"
        rows.append(
            [_md(f"{p.task} · {F.group_label(p.property)}"), *cells, F.count(p.n_prompts), cov, p.method]
        )
    title = "### Calibration (Fig. 6): MAD ×100, lower is better; ⚠ = coverage below the floor"
    return [title + (f", about {_md(cal.target)}" if cal.target else ""), "", *_table(header, rows)]


def behaviour_change_lines(bc: BehaviourChange) -> list[str]:
    header = [
        "prompts",
        f"predicting old {SEM}",
        CLU,
        "baseline old",
        f"predicting new {SEM}",
        CLU,
        "baseline new",
        f"Δ new − old [{CLU}]",
        F.P_COLUMNS,
        "n",
    ]
    rows = []
    for what, table in (("shifted", bc.rows), ("entropy-matched", bc.entropy_matched)):
        r = find_row(table)
        if r is None:
            continue
        rows.append(
            [
                what,
                F.change_ci(r, "old"),
                F.change_cluster_ci(r, "old"),
                F.pct(r.baseline_old),
                F.change_ci(r, "new"),
                F.change_cluster_ci(r, "new"),
                F.pct(r.baseline_new),
                F.verdict_diff(r),
                F.p_values(r),
                F.count(r.n),
            ]
        )
    title = (
        f"### Behaviour change (Fig. 8): {_md(bc.new_model)} (shifted from {_md(bc.old_model)}), "
        f"{F.count(bc.n_shifted)} shifted prompts"
    )
    out = [title, "", *_table(header, rows)]
    if bc.answers:
        out += ["", "Answers before → after the shift (collateral check; not in the paper):", ""]
        out += _table(ANSWER_HEADER, [[_md(c) for c in answer_cells(a)] for a in bc.answers])
    return out


ANSWER_HEADER = ["task", "in shift set", "answer", "compliant", "changed", "most common"]


def answer_cells(a: AnswerRow) -> list[str]:
    """One task's row of the collateral-check table (plain text, shared by the summary and the HTML)."""
    changed = F.pct(a.changed_fraction) + (f" of {F.count(a.n_compared)}" if a.n_compared else "")
    return [
        a.task,
        "yes" if a.shifted else "no",
        F.group_label(a.property),
        f"{F.pct(a.compliant_old, 0)} → {F.pct(a.compliant_new, 0)}",
        changed,
        f"{F.top_answer(a.top_old, a.top_old_share)} → {F.top_answer(a.top_new, a.top_new_share)}",
    ]


def headlines(results: Results) -> list[str]:
    """One plain-text sentence per finding (micro-averages), in report order; empty when nothing was run."""
    out = []
    if results.self_training:
        for m in results.self_training.models:
            before, after, t = find_row(m.untrained), find_row(m.trained), find_row(m.tests)
            if before and after:
                out.append(
                    f"{m.label}: self-prediction {F.pct(before.acc)} untrained → {F.pct(after.acc)}"
                    " self-trained"
                    f" ({_verdict(t)}); mode baseline {F.pct(after.baseline)}, n={F.count(after.n)}."
                )
    if results.cross_prediction:
        for tg in results.cross_prediction.targets:
            own = find_row(tg.self_rows)
            for c in tg.cross:
                r, t = find_row(c.rows), find_row(c.tests)
                if own and r:
                    out.append(
                        f"Predicting {tg.label}: self {F.pct(own.acc)} vs {c.label} {F.pct(r.acc)}"
                        f" ({_verdict(t)}); mode baseline {F.pct(own.baseline)}."
                    )
    if results.calibration:
        for p in results.calibration.panels:
            mads = ", ".join(f"{c.label} {F.mad(c.mad)}" for c in p.conditions)
            out.append(f"Calibration MAD ({p.task} · {F.group_label(p.property)}, lower is better): {mads}.")
    bc = results.behaviour_change
    if bc and (change := find_row(bc.rows)):
        out.append(
            f"Behaviour change ({bc.new_model}, {F.count(bc.n_shifted)} shifted prompts): predicts its new"
            f" behaviour {F.pct(change.acc_new)} vs the old {F.pct(change.acc_old)}"
            f" ({_verdict(change)})."
        )
    return out


def markdown_summary(results: Results) -> str:
    """Short markdown: run line, then one table per experiment that was run, then the run's notes."""
    run = results.run
    lines = [f"## {_md(run.name)} (run {_md(run.run_id)})", ""]
    when = f"finished {run.finished:%Y-%m-%d %H:%M %Z}".rstrip() + ", " if run.finished else ""
    lines += [
        f"{when}wall {F.duration(run.wall_s)}. Accuracy = micro-average with two 95% CIs: ±1.96·SEM over "
        f"rows (the paper's error bars, kept for comparability; the Wilson score interval where n < "
        f"{F.SMALL_N}) and the {CLU} (prompts resampled, not rows), which Δ and verdicts use; "
        "baseline = mode baseline (the paper's ⋆) of the same rows; p two-sided.",
        "",
    ]
    if results.self_training:
        lines += [*self_training_lines(results.self_training), ""]
    if results.cross_prediction:
        lines += [*cross_prediction_lines(results.cross_prediction), ""]
    if results.calibration:
        lines += [*calibration_lines(results.calibration), ""]
    if results.behaviour_change:
        lines += [*behaviour_change_lines(results.behaviour_change), ""]
    if not any(
        (results.self_training, results.cross_prediction, results.calibration, results.behaviour_change)
    ):
        lines += ["No experiment results in this file.", ""]
    if run.notes:
        lines += ["Notes:", *(f"- {_md(n)}" for n in run.notes), ""]
    return "\n".join(lines).rstrip() + "\n"
