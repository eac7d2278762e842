"""The numbers a researcher would quote, as markdown (for a terminal, a PR or a paper draft).

    from inward.report import Results, markdown_summary, headlines
    print(markdown_summary(Results.load("runs/demo/results.json")))
    headlines(results)     # one plain-text sentence per finding (the HTML page's headline list)

Accuracies are micro-averages over all evaluated rows with 95% CIs (±1.96·SEM); ⋆ is the mode baseline of the
same rows; p-values are two-sided (paired bootstrap, and exact McNemar where rows are paired); MADs are ×100.
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


def _ps(t: PairedTest | ChangeRow | None) -> str:
    return "n/a" if t is None else f"{F.p_value(t.p_bootstrap)} / {F.p_value(t.p_mcnemar)}"


def _diff(t: PairedTest | None) -> str:
    return "n/a" if t is None else F.pp(t.diff, t.ci_low, t.ci_high)


def self_training_lines(st: SelfTraining) -> list[str]:
    header = [
        "model",
        "untrained",
        "baseline",
        "self-trained",
        "baseline",
        "Δ trained − untrained",
        "p (boot / McNemar)",
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
                _base(before),
                _acc(after),
                _base(after),
                _diff(t),
                _ps(t),
                F.count(n),
            ]
        )
    return ["### Self-prediction training (Fig. 4)", "", *_table(header, rows)]


def cross_prediction_lines(cp: CrossPrediction) -> list[str]:
    header = ["target", "predictor", "accuracy", "baseline", "Δ self − cross", "p (boot / McNemar)", "n"]
    rows = []
    for tg in cp.targets:
        own = find_row(tg.self_rows)
        rows.append([_md(tg.label), "self", _acc(own), _base(own), "", "", F.count(own.n if own else None)])
        for c in tg.cross:
            r, t = find_row(c.rows), find_row(c.tests)
            rows.append(
                [
                    _md(tg.label),
                    _md(c.label),
                    _acc(r),
                    _base(r),
                    _diff(t),
                    _ps(t),
                    F.count(r.n if r else None),
                ]
            )
    return ["### Cross-prediction (Fig. 5)", "", *_table(header, rows)]


def calibration_lines(cal: Calibration) -> list[str]:
    labels: list[str] = []
    for p in cal.panels:
        labels += [c.label for c in p.conditions if c.label not in labels]
    header = ["task · property", *(_md(x) for x in labels), "prompts", "method"]
    rows = []
    for p in cal.panels:
        by = {c.label: c for c in p.conditions}
        cells = [F.mad(by[x].mad) if x in by else "" for x in labels]
        rows.append([_md(f"{p.task} · {F.group_label(p.property)}"), *cells, F.count(p.n_prompts), p.method])
    title = "### Calibration (Fig. 6): MAD ×100, lower is better"
    return [title + (f", about {_md(cal.target)}" if cal.target else ""), "", *_table(header, rows)]


def behaviour_change_lines(bc: BehaviourChange) -> list[str]:
    header = [
        "prompts",
        "predicting old",
        "baseline old",
        "predicting new",
        "baseline new",
        "Δ new − old",
        "p (boot / McNemar)",
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
                F.pct(r.baseline_old),
                F.change_ci(r, "new"),
                F.pct(r.baseline_new),
                F.pp(r.diff, r.diff_ci_low, r.diff_ci_high),
                _ps(r),
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
                    f" ({F.pp(t.diff if t else None)}, {F.fmt_p(t.p_bootstrap if t else None)});"
                    f" mode baseline {F.pct(after.baseline)}, n={F.count(after.n)}."
                )
    if results.cross_prediction:
        for tg in results.cross_prediction.targets:
            own = find_row(tg.self_rows)
            for c in tg.cross:
                r, t = find_row(c.rows), find_row(c.tests)
                if own and r:
                    out.append(
                        f"Predicting {tg.label}: self {F.pct(own.acc)} vs {c.label} {F.pct(r.acc)}"
                        f" ({F.pp(t.diff if t else None)}, {F.fmt_p(t.p_bootstrap if t else None)});"
                        f" mode baseline {F.pct(own.baseline)}."
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
            f" ({F.pp(change.diff)}, {F.fmt_p(change.p_bootstrap)})."
        )
    return out


def markdown_summary(results: Results) -> str:
    """Short markdown: run line, then one table per experiment that was run, then the run's notes."""
    run = results.run
    lines = [f"## {_md(run.name)} (run {_md(run.run_id)})", ""]
    when = f"finished {run.finished:%Y-%m-%d %H:%M %Z}".rstrip() + ", " if run.finished else ""
    lines += [
        f"{when}wall {F.duration(run.wall_s)}. Accuracy = micro-average with 95% CI (±1.96·SEM, the "
        f"paper's; the Wilson score interval where n < {F.SMALL_N}); "
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
