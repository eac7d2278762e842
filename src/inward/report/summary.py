"""The numbers a researcher would quote, as markdown (for a terminal, a PR or a paper draft).

    from inward.report import Results, markdown_summary, headlines
    print(markdown_summary(Results.load("runs/demo/results.json")))
    headlines(results)     # one plain-text sentence per finding (the HTML page's headline list)

Accuracies are micro-averages over all evaluated rows with two 95% CIs: ±1.96·SEM (the paper's, rows as
independent) and an item-clustered bootstrap (prompts resampled, so the correlated properties of one answer
move together); ⋆ is the mode baseline of the same rows; p-values are two-sided (item-clustered bootstrap, which
the verdicts use, then the row bootstrap and exact McNemar); MADs are ×100. The evidence table (one row per
claim of the paper: effect oriented so that positive = the paper's claim, its 95% interval, p, the effect
detectable at 80% power, the paper's own effect and a verdict) comes first; a seeds table follows the
experiments when more than one training seed ran. The controls (`inward.report.controls`: one line per
predictor, self − predictor with the evidence table's verdict) and the data-hygiene checks follow the four
experiments.
"""

from __future__ import annotations

from collections.abc import Sequence

from inward.report import _format as F
from inward.report.controls import comparisons, controls_lines, hygiene_lines, survival, survival_text
from inward.report.results import (
    AccRow,
    AnswerRow,
    BehaviourChange,
    Calibration,
    ChangeRow,
    CrossPrediction,
    CrossPredictor,
    CrossTarget,
    Evidence,
    EvidenceRow,
    MadTest,
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


def _base_ref(ref: str) -> str:
    return ref.split("+", 1)[0]


def predictor_role(cp: CrossPrediction, target: CrossTarget, c: CrossPredictor) -> str | None:
    """The role ("m1", "m2") of a cross-predictor: that of the other target with its label or base model (the
    schema records roles on targets only); None when no target matches."""
    for other in cp.targets:
        same = other.label == c.label or _base_ref(other.model) == _base_ref(c.model)
        if other is not target and other.role and same:
            return other.role
    return None


def predictor_name(cp: CrossPrediction, target: CrossTarget, c: CrossPredictor) -> str:
    """``M2 (SmolLM2-135M)``, or the label alone when its role is unknown."""
    return F.who(c.label, predictor_role(cp, target, c))


def direction(cp: CrossPrediction, target: CrossTarget, c: CrossPredictor) -> str:
    """``M2 (SmolLM2-135M) predicts M1 (Qwen2.5-Coder-0.5B)``."""
    return f"{predictor_name(cp, target, c)} predicts {F.who(target.label, target.role)}"


def target_heading(cp: CrossPrediction, target: CrossTarget) -> str:
    """A target's heading: who predicts whom, e.g. ``M2 (SmolLM2-135M) predicts M1 (Qwen2.5-Coder-0.5B)``."""
    me = F.who(target.label, target.role)
    if not target.cross:
        return f"Predicting {me}"
    if len(target.cross) == 1:
        return direction(cp, target, target.cross[0])
    return f"{' and '.join(predictor_name(cp, target, c) for c in target.cross)} predict {me}"


def capable_tag(c: CrossPredictor) -> str:
    """``more capable`` / ``less capable`` (the predictor than its target); empty when not told."""
    if c.more_capable is None:
        return ""
    return "more capable" if c.more_capable else "less capable"


def capability_sentence(cp: CrossPrediction, *, measure: bool = True) -> str | None:
    """Which direction has the more capable predictor (from `CrossPredictor.more_capable`), by the capability
    measure unless `measure` is false; None without cross-predictors."""
    pairs = [(tg, c) for tg in cp.targets for c in tg.cross]
    if not pairs:
        return None
    by = f", by {cp.capability_measure}" if cp.capability_measure and measure else ""
    more = [direction(cp, tg, c) for tg, c in pairs if c.more_capable is True]
    if more:
        return (
            f"More capable predictor: {'; '.join(more)}{by}. The paper's claim is that a model predicts "
            "itself better than a model trained on its behaviour, even a more capable one."
        )
    if any(c.more_capable is False for _, c in pairs):
        return f"In no direction is the predictor the more capable model{by}."
    return "Which predictor is more capable was not recorded."


def capability_line(cp: CrossPrediction) -> str | None:
    """``Capability by <measure>: A 494M, MC 41.2% (n=500); B 135M, MC 30.0% (n=500).``; None when not
    recorded."""
    if not cp.capability:
        return None
    items = "; ".join(
        f"{m.label} {F.parameters(m.parameters)}, MC {F.mc_accuracy(m.mc_accuracy, m.mc_n)}"
        for m in cp.capability
    )
    by = f" by {cp.capability_measure}" if cp.capability_measure else ""
    return f"Capability{by}: {items}."


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
        me = _md(F.who(tg.label, tg.role))
        rows.append([me, "self", _acc(own), _clu(own), _base(own), "", "", n_own])
        for c in tg.cross:
            r, t = find_row(c.rows), find_row(c.tests)
            tag = capable_tag(c)
            rows.append(
                [
                    me,
                    _md(predictor_name(cp, tg, c)) + (f" ({tag})" if tag else ""),
                    _acc(r),
                    _clu(r),
                    _base(r),
                    F.verdict_diff(t),
                    F.p_values(t),
                    F.count(r.n if r else None),
                ]
            )
    out = ["### Cross-prediction (Fig. 5)", "", *_table(header, rows)]
    line = capability_line(cp)
    extra = [x for x in (line, capability_sentence(cp, measure=line is None)) if x]
    if extra:
        out += ["", " ".join(_md(x) for x in extra)]
    return out


def calibration_lines(cal: Calibration) -> list[str]:
    labels: list[str] = []
    for p in cal.panels:
        labels += [c.label for c in p.conditions if c.label not in labels]
    tests = [p.self_vs_cross for p in cal.panels if p.self_vs_cross is not None]
    header = ["task · property", *(_md(x) for x in labels), "prompts", "min covered mass", "method"]
    if tests:
        header.append(_md(f"Δ MAD {tests[0].b} − {tests[0].a} [95% CI], p"))
    rows = []
    for p in cal.panels:
        by = {c.label: c for c in p.conditions}
        cells = [F.mad(by[x].mad) + (" ⚠" if by[x].low_coverage else "") if x in by else "" for x in labels]
        covs = [
            x for c in p.conditions for x in (c.object_coverage, c.hypothetical_coverage) if x is not None
        ]
        cov = f"{min(covs):.3f}" if covs else "—"
        rows.append(
            [_md(f"{p.task} · {F.group_label(p.property)}"), *cells, F.count(p.n_prompts), cov, p.method]
            + ([mad_test(p.self_vs_cross) if p.self_vs_cross else "n/a"] if tests else [])
        )
    title = "### Calibration (Fig. 6): MAD ×100, lower is better; ⚠ = coverage below the floor"
    return [title + (f", about {_md(cal.target)}" if cal.target else ""), "", *_table(header, rows)]


def mad_test(t: MadTest) -> str:
    """``+4.2 MAD [+1.0, +7.4], p=0.012``: MAD B − MAD A on the same prompts (positive = A better calibrated)."""
    return f"{F.effect(t.diff, t.ci_low, t.ci_high, 'mad')}, {F.fmt_p(t.p)}"


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


def paper_effect(r: EvidenceRow) -> str:
    return F.effect(r.paper_effect, unit=r.unit)


def multi_seed(ev: Evidence) -> bool:
    """Whether the evidence combines more than one training seed (per-seed columns are shown)."""
    return len(ev.seeds) > 1 or any(len(r.seeds) > 1 for r in ev.rows)


def row_seeds_agree(r: EvidenceRow) -> str:
    return F.seeds_agree(r.seeds_agree, [s.verdict for s in r.seeds])


def evidence_footer(ev: Evidence) -> str:
    """``α = 0.05, two-sided; detectable effect at 80% power; seeds 0, 1, 2.``"""
    seeds = f"; seed{'s' if len(ev.seeds) > 1 else ''} {F.seed_list(ev.seeds)}" if ev.seeds else ""
    return f"α = {ev.alpha:g}, two-sided; detectable effect at {ev.power:.0%} power{seeds}."


def evidence_lines(ev: Evidence) -> list[str]:
    """The evidence table (compact: claim, effect [CI], p, detectable effect, paper, verdict), then the rules."""
    multi = multi_seed(ev)
    header = ["claim", "effect [95% CI]", "p", f"detectable ({ev.power:.0%} power)", "paper", "verdict"]
    if multi:
        header.append("seeds agree")
    rows = [
        [
            _md(r.claim),
            F.effect(r.effect, r.ci_low, r.ci_high, r.unit),
            F.p_value(r.p),
            F.magnitude(r.mde, r.unit),
            paper_effect(r),
            F.verdict_label(r.verdict),
            *([_md(row_seeds_agree(r))] if multi else []),
        ]
        for r in ev.rows
    ]
    out = [
        "### Evidence: one row per claim (effect positive = the paper's claim; pp = percentage points, MAD = "
        "calibration points)",
        "",
    ]
    out += _table(header, rows) if rows else ["No claims were tested."]
    notes = [f"- {_md(r.claim)}: {_md(r.note)}" for r in ev.rows if r.note]
    if notes:
        out += ["", "Row notes:", *notes]
    out += ["", f"Verdicts ({_md(evidence_footer(ev).rstrip('.'))}):"]
    out += [f"- {F.verdict_label(v)}: {_md(F.rule_text(v, rule))}" for v, rule in F.ordered_rules(ev.rules)]
    return out


def seed_columns(results: Results) -> list[str]:
    """Seed keys of the seeds table: the run's seeds in order, then any other seed a number has."""
    cols = [str(s) for s in results.seeds]
    for x in results.seed_numbers:
        cols += [k for k in x.values if k not in cols]
    return cols


def seeds_lines(results: Results) -> list[str]:
    cols = seed_columns(results)
    header = ["number", "mean ± sd", *(f"seed {_md(s)}" for s in cols)]
    rows = [
        [_md(x.name), F.mean_sd(x.mean, x.sd, x.unit), *(F.value(x.values.get(s), x.unit) for s in cols)]
        for x in results.seed_numbers
    ]
    out = [f"### Seeds: {len(results.seeds)} training seeds ({F.seed_list(results.seeds)})", ""]
    return out + (_table(header, rows) if rows else ["No per-seed numbers recorded."])


def seeds_sentence(results: Results) -> str | None:
    """When more than one seed ran: which seed the experiment sections show."""
    if len(results.seeds) <= 1:
        return None
    return (
        f"{len(results.seeds)} training seeds ({F.seed_list(results.seeds)}): the experiment tables show seed "
        f"{results.seeds[0]}; the evidence table and the seeds table combine them."
    )


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
        cp = results.cross_prediction
        for tg in cp.targets:
            own = find_row(tg.self_rows)
            for c in tg.cross:
                r, t = find_row(c.rows), find_row(c.tests)
                if own and r:
                    tag = capable_tag(c)
                    out.append(
                        f"Predicting {F.who(tg.label, tg.role)}: self {F.pct(own.acc)} vs"
                        f" {predictor_name(cp, tg, c)}{f' ({tag})' if tag else ''} {F.pct(r.acc)}"
                        f" ({_verdict(t)}); mode baseline {F.pct(own.baseline)}."
                    )
    if results.calibration:
        for p in results.calibration.panels:
            mads = ", ".join(f"{c.label} {F.mad(c.mad)}" for c in p.conditions)
            if (mt := p.self_vs_cross) is not None:
                mads += f"; {mt.b} − {mt.a} {mad_test(mt)}"
            out.append(f"Calibration MAD ({p.task} · {F.group_label(p.property)}, lower is better): {mads}.")
    bc = results.behaviour_change
    if bc and (change := find_row(bc.rows)):
        out.append(
            f"Behaviour change ({bc.new_model}, {F.count(bc.n_shifted)} shifted prompts): predicts its new"
            f" behaviour {F.pct(change.acc_new)} vs the old {F.pct(change.acc_old)}"
            f" ({_verdict(change)})."
        )
    for section in results.controls.values():
        what = survival_text(survival(comparisons(results, section)))
        out.append(f"{section.title} (predicting {section.target}): {what}.")
    return out


def markdown_summary(results: Results) -> str:
    """Short markdown: run line, the evidence table, one table per experiment that was run, the controls and
    data-hygiene checks, the seeds table (more than one seed), then the run's notes."""
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
    if seeds := seeds_sentence(results):
        lines += [seeds, ""]
    if results.evidence is not None:
        lines += [*evidence_lines(results.evidence), ""]
    if results.self_training:
        lines += [*self_training_lines(results.self_training), ""]
    if results.cross_prediction:
        lines += [*cross_prediction_lines(results.cross_prediction), ""]
    if results.calibration:
        lines += [*calibration_lines(results.calibration), ""]
    if results.behaviour_change:
        lines += [*behaviour_change_lines(results.behaviour_change), ""]
    if results.controls:
        lines += [*controls_lines(results), ""]
    if hygiene := hygiene_lines(results):
        lines += [*hygiene, ""]
    if len(results.seeds) > 1:
        lines += [*seeds_lines(results), ""]
    if not any(
        (
            results.self_training,
            results.cross_prediction,
            results.calibration,
            results.behaviour_change,
            results.controls,
        )
    ):
        lines += ["No experiment results in this file.", ""]
    if run.notes:
        lines += ["Notes:", *(f"- {_md(n)}" for n in run.notes), ""]
    return "\n".join(lines).rstrip() + "\n"
