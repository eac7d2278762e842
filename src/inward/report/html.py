"""A self-contained HTML report: one page, inline CSS, no JavaScript, figures as PNG files beside it.

    from inward.report import Results, write_report
    index = write_report(Results.load("runs/demo/results.json"), Path("runs/demo/report"))
    # runs/demo/report/{index.html, results.json, fig4_self_training.png, …}; open index.html in any browser

Sections: the run's notes, the evidence table (one row per claim of the paper, with verdict badges and the
verdict rules; absent in results written before it existed), headline findings, one section per experiment
(figure + per-group tables; "not run" when absent), the controls (when run: each predictor beside the target
predicting itself, with the evidence table's verdict, and the data-hygiene checks), the seeds (more than one
training seed), compliance, sizes, the exact configuration and provenance. Every piece of text from the results
is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from inward.report import _format as F
from inward.report import controls as C
from inward.report import figures as FIG
from inward.report._style import CSS
from inward.report.results import (
    AccRow,
    BehaviourChange,
    Calibration,
    ChangeRow,
    ControlSection,
    CrossPrediction,
    Evidence,
    EvidenceRow,
    PairedTest,
    Results,
    SelfTraining,
    TrainStats,
    find_row,
    write_text_atomic,
)
from inward.report.summary import (
    ANSWER_HEADER,
    answer_cells,
    capability_sentence,
    capable_tag,
    evidence_footer,
    headlines,
    multi_seed,
    paper_effect,
    row_seeds_agree,
    seed_columns,
    target_heading,
)

SEM = "±1.96·SEM (paper, rows)"
CLU = "item-clustered bootstrap"
DIFF = f"Δ [{CLU}]"
CONDITION = (SEM, CLU, "baseline", "compliance")
SECTIONS = (
    ("self-training", "Self-prediction training (Fig. 4)"),
    ("cross-prediction", "Cross-prediction (Fig. 5)"),
    ("calibration", "Calibration (Fig. 6)"),
    ("behaviour-change", "Behaviour change (Fig. 8)"),
    ("compliance", "Compliance"),
    ("configuration", "Configuration"),
    ("provenance", "Provenance"),
)
EXPERIMENTS = dict(SECTIONS[:4])

# The evidence table's badges (the page's stylesheet is shared; these rules belong to this section). Each
# verdict has its own mark and word as well as its colour, so the colour never carries the meaning alone.
EVIDENCE_CSS = """
.badge { display: inline-block; padding: 0 8px; border: 1px solid; border-radius: 10px; font-weight: 600;
         font-size: 12.5px; line-height: 1.6; white-space: nowrap; }
.badge.v-supports { background: #e3f4ec; color: #0b5e3f; border-color: #009E73; }
.badge.v-contradicts { background: #fbe6dc; color: #8f2d00; border-color: #D55E00; }
.badge.v-inconclusive { background: #eef0f3; color: #3d4450; border-color: #8b94a1; }
.badge.v-underpowered { background: #fff3d6; color: #6b4a00; border-color: #E69F00; }
table.evidence td.text { white-space: normal; text-align: left; min-width: 10em; max-width: 24em; }
table.evidence th:nth-child(2) { text-align: left; }
table.evidence td.seeds { white-space: normal; min-width: 7em; }
table.evidence td.agree { white-space: normal; min-width: 6em; max-width: 10em; }
table.evidence .nw { white-space: nowrap; }
table.evidence td .muted { display: block; margin: 2px 0 0; font-size: 12.5px; }
table.evidence tbody tr { background: #ffffff; }
table.evidence tr.has-note td, table.controls tr.has-note td { border-bottom: none; }
table.evidence tr.note td, table.controls tr.note td { text-align: left; white-space: normal;
    color: var(--muted); font-size: 13px; padding-top: 0; }
table.controls td .muted { display: block; margin: 2px 0 0; font-size: 12.5px; }
table.controls tbody tr { background: #ffffff; }
ul.checks { padding-left: 20px; }
ul.checks .failed { color: #8f2d00; }
dl.rules { display: grid; grid-template-columns: max-content 1fr; gap: 6px 14px; margin: 8px 0 12px; }
dl.rules dt, dl.rules dd { margin: 0; }
"""


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
    spans: Sequence[tuple[str, int]] = (),
    cls: str = "",
    col_cls: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """A table from already-escaped cells. ``spans`` adds a header row above, as (label, columns) pairs. A row
    whose first cell is "Average" is styled as the total. ``col_cls`` gives the cells of column i a class;
    ``notes[i]``, when not empty, is a full-width row below row i."""
    top = "".join(f'<th colspan="{n}" class="span">{label}</th>' for label, n in spans)
    head = (f"<tr>{top}</tr>" if spans else "") + "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    tds = [f' class="{c}"' if c else "" for c in col_cls]
    body = []
    for i, r in enumerate(rows):
        note = notes[i] if i < len(notes) else ""
        klass = "avg" if r and r[0] == "Average" else "has-note" if note else ""
        cells = "".join(f"<td{tds[j] if j < len(tds) else ''}>{c}</td>" for j, c in enumerate(r))
        attr = f' class="{klass}"' if klass else ""
        body.append(f"<tr{attr}>{cells}</tr>")
        if note:
            body.append(f'<tr class="note"><td colspan="{len(header)}">{note}</td></tr>')
    cap = f"<caption>{caption}</caption>" if caption else ""
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{cap}<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _figure(name: str | None, alt: str, caption: str) -> str:
    if name is None:
        return ""
    return f'<figure><img src="{esc(name)}" alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>'


def _groups(*tables: Sequence[Any] | None) -> list[str]:
    seen: list[str] = []
    for t in tables:
        seen += [r.group for r in t or () if r.group not in seen]
    return [g for g in seen if g != "average"] + (["average"] if "average" in seen else [])


def _acc_cells(r: AccRow | None) -> list[str]:
    """The accuracy with the paper's interval, then the item-clustered bootstrap interval."""
    return ["—", "—"] if r is None else [esc(F.acc_ci(r)), esc(F.cluster_ci(r))]


def _test_cells(t: PairedTest | ChangeRow | None) -> list[str]:
    if t is None:
        return ["—", "—"]
    return [esc(F.verdict_diff(t)), esc(F.p_values(t))]


def _train(stats: TrainStats | None, who: str = "") -> str:
    if stats is None:
        return ""
    parts = [f"{F.count(stats.examples)} training examples", f"{F.duration(stats.wall_s)} wall"]
    if stats.examples_per_s is not None:
        parts.append(f"{stats.examples_per_s:.1f} examples/s")
    if stats.final_loss is not None:
        parts.append(f"final loss {stats.final_loss:.3f}")
    return f'<p class="muted">Training{esc(who)}: {esc(", ".join(parts))}.</p>'


def _badge(verdict: str, rule: str | None = None) -> str:
    """A verdict as a coloured badge: mark and word (the colour is never the only cue); the rule as its title."""
    mark = F.VERDICT_MARKS.get(verdict)
    title = f' title="{esc(rule)}"' if rule else ""
    icon = f'<span aria-hidden="true">{esc(mark)} </span>' if mark else ""
    return f'<span class="badge v-{esc(verdict)}"{title}>{icon}{esc(verdict)}</span>'


def _experiment_link(experiment: str, present: Iterable[str], controls: dict[str, str] | None = None) -> str:
    """A link to the experiment's section; `controls` (name → title) links a control's rows to its block."""
    if controls and experiment in controls:
        return f'<a href="#{control_id(experiment)}">{esc(controls[experiment])}</a>'
    sid = experiment.replace("_", "-")
    if sid in present:
        return f'<a href="#{sid}">{esc(EXPERIMENTS[sid])}</a>'
    return esc(EXPERIMENTS.get(sid, experiment))


def control_id(name: str) -> str:
    """The element id of a control's block: ``control-seed-sibling``."""
    return "control-" + ("".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "x")


def _seed_cells(r: EvidenceRow) -> list[str]:
    """Each seed's effect, without the unit the effect column names (and its own verdict where it differs
    from the row's), then whether the seeds agree."""
    lines = []
    for s in r.seeds:
        own = (
            f' <span class="nw">({esc(F.verdict_label(s.verdict))})</span>' if s.verdict != r.verdict else ""
        )
        lines.append(f'<span class="nw">{esc(f"seed {s.seed}: {F.signed(s.effect, r.unit)}")}</span>{own}')
    spread = (
        f'<span class="muted">sd {esc(F.magnitude(r.spread, r.unit))}</span>' if r.spread is not None else ""
    )
    return ["<br>".join(lines) or "—", esc(row_seeds_agree(r)) + spread]


def _n_cell(r: EvidenceRow) -> str:
    """Prompts (what the intervals resample), with the rows beneath when they differ."""
    if r.n_clusters is None:
        return esc(F.count(r.n))
    rows = f'<span class="muted">{esc(F.count(r.n))} rows</span>' if r.n not in (None, r.n_clusters) else ""
    return esc(f"{F.count(r.n_clusters)} prompts") + rows


def evidence_html(ev: Evidence, present: Iterable[str] = (), controls: dict[str, str] | None = None) -> str:
    """The evidence table (one row per claim; its note and where the paper's effect comes from in a
    full-width row below), then the verdict rules, α, power and the seeds.

    `present`: the ids of the experiment sections with data, which a row's experiment links to; `controls`:
    the controls shown (name → title), which a control's rows link to."""
    present = set(present)
    multi = multi_seed(ev)
    header = [
        "claim",
        "comparison",
        "n",
        "effect [95% CI]",
        "p",
        esc(f"detectable ({ev.power:.0%} power)"),
        "paper",
        "verdict",
        *(["per seed", "seeds agree"] if multi else []),
    ]
    col_cls = ["text", "text", *([""] * 6), *(["seeds", "agree"] if multi else [])]
    rows = []
    for r in ev.rows:
        rows.append(
            [
                esc(r.claim)
                + f'<span class="muted">{_experiment_link(r.experiment, present, controls)}</span>',
                esc(r.comparison),
                _n_cell(r),
                esc(F.effect(r.effect, r.ci_low, r.ci_high, r.unit)),
                esc(F.p_value(r.p)),
                esc(F.magnitude(r.mde, r.unit)),
                esc(paper_effect(r)),
                _badge(r.verdict, ev.rules.get(r.verdict)),
                *(_seed_cells(r) if multi else []),
            ]
        )
    notes = [
        "<br>".join(
            [
                *([f"<strong>Note:</strong> {esc(r.note)}"] if r.note else []),
                *([f"<strong>Paper:</strong> {esc(r.paper_source)}"] if r.paper_source else []),
            ]
        )
        for r in ev.rows
    ]
    intro = (
        '<p class="muted">One row per claim of the paper. Effect: oriented so that positive = the paper\'s '
        "claim, in percentage points (pp, accuracy differences) or MAD points (calibration, 0–100 scale), "
        "with its 95% interval (item-clustered); p two-sided; detectable effect: the smallest effect this "
        f"comparison detects with {ev.power:.0%} power at α = {ev.alpha:g}; paper: the paper's own effect "
        "in the same unit. The verdict follows the rules below the table.</p>"
    )
    table = (
        _table(
            header, rows, caption="Claims of the paper, tested", cls="evidence", col_cls=col_cls, notes=notes
        )
        if rows
        else '<p class="muted">No claims were tested.</p>'
    )
    rules = "".join(
        f"<dt>{_badge(v)}</dt><dd>{esc(F.rule_text(v, rule))}</dd>" for v, rule in F.ordered_rules(ev.rules)
    )
    rules_html = f'<h3>Verdict rules</h3><dl class="rules">{rules}</dl>' if rules else ""
    return "\n".join([intro, table, rules_html, f'<p class="muted">{esc(evidence_footer(ev))}</p>'])


def seeds_html(results: Results) -> str:
    """Headline numbers over training seeds: mean ± sd, then one column per seed."""
    cols = seed_columns(results)
    first = results.seeds[0] if results.seeds else None
    intro = (
        f'<p class="muted">{len(results.seeds)} training seeds ({esc(F.seed_list(results.seeds))}); each seed '
        f"also draws the training and shift items. The experiment sections above show seed {esc(first)}; "
        "every seed's sections are in results.json (seed_runs). sd = sample standard deviation over seeds.</p>"
    )
    rows = [
        [
            esc(x.name),
            esc(F.mean_sd(x.mean, x.sd, x.unit)),
            *(esc(F.value(x.values.get(s), x.unit)) for s in cols),
        ]
        for x in results.seed_numbers
    ]
    if not rows:
        return intro + '<p class="muted">No per-seed numbers recorded.</p>'
    header = ["number", "mean ± sd", *(esc(f"seed {s}") for s in cols)]
    return intro + _table(
        header, rows, caption="Headline numbers per training seed (accuracy in %, Δ in pp, MAD ×100)"
    )


def self_training_html(st: SelfTraining, fig: str | None) -> str:
    out = [
        _figure(
            fig,
            "Self-prediction accuracy before and after training",
            "Bars: accuracy per property and micro-average with 95% CI (±1.96·SEM, the paper's); ★: mode "
            "baseline of the same rows; bracket: trained − untrained with its item-clustered bootstrap p-value.",
        )
    ]
    if st.tasks:
        out.append(f'<p class="muted">Held-out tasks: {esc(", ".join(st.tasks))}.</p>')
    header = ["group", "n", *CONDITION, *CONDITION, DIFF, esc(F.P_COLUMNS)]
    spans = [("", 2), ("untrained", 4), ("self-trained", 4), ("trained − untrained", 2)]
    for m in st.models:
        rows = []
        for g in _groups(m.untrained, m.trained):
            u, t = find_row(m.untrained, g), find_row(m.trained, g)
            ns = sorted({r.n for r in (u, t) if r is not None})
            rows.append(
                [
                    esc(F.group_label(g)),
                    esc(" / ".join(F.count(n) for n in ns)),
                    *_acc_cells(u),
                    esc(F.pct(u.baseline if u else None)),
                    esc(F.pct(u.compliance if u else None)),
                    *_acc_cells(t),
                    esc(F.pct(t.baseline if t else None)),
                    esc(F.pct(t.compliance if t else None)),
                    *_test_cells(find_row(m.tests, g)),
                ]
            )
        trained = f" → <code>{esc(m.trained_model)}</code>" if m.trained_model else ""
        out += [
            f"<h3>{esc(m.label)}</h3>",
            f'<p class="muted"><code>{esc(m.model)}</code>{trained}</p>',
            _train(m.train),
            _table(header, rows, spans=spans),
        ]
    return "\n".join(out)


def cross_prediction_html(cp: CrossPrediction, fig: str | None) -> str:
    out = [
        _figure(
            fig,
            "Self-prediction versus cross-prediction accuracy",
            "Bars: accuracy predicting the target's behaviour, per property and micro-average, 95% CI "
            "(±1.96·SEM, the paper's); ★: mode baseline; brackets: self − cross with item-clustered "
            "bootstrap p-values.",
        )
    ]
    if cp.tasks:
        out.append(f'<p class="muted">Held-out tasks: {esc(", ".join(cp.tasks))}.</p>')
    out.append(_capability_html(cp))
    for tg in cp.targets:
        tables = [tg.self_rows, *(c.rows for c in tg.cross)]
        header = ["group", "n", "baseline", "compliance", *[SEM, CLU] * (1 + len(tg.cross))]
        spans = [("", 4), (f"self ({esc(tg.label)})", 2), *((esc(c.label), 2) for c in tg.cross)]
        rows = []
        for g in _groups(*tables):
            own = find_row(tg.self_rows, g)
            cells = [
                esc(F.group_label(g)),
                esc(F.count(own.n if own else None)),
                esc(F.pct(own.baseline if own else None)),
                esc(F.pct(own.compliance if own else None)),
                *_acc_cells(own),
            ]
            rows.append(cells + [x for c in tg.cross for x in _acc_cells(find_row(c.rows, g))])
        tests = [
            [esc(F.group_label(t.group)), esc(c.label), esc(F.count(t.n)), *_test_cells(t)]
            for c in tg.cross
            for t in c.tests
        ]
        refs = "".join(f"; {esc(c.label)}: <code>{esc(c.model)}</code>" for c in tg.cross)
        tags = [t for c in tg.cross if (t := capable_tag(c))]
        tag = f' <span class="muted">(predictor {esc(tags[0])})</span>' if len(tg.cross) == 1 and tags else ""
        out += [
            f"<h3>{esc(target_heading(cp, tg))}{tag}</h3>",
            f'<p class="muted"><code>{esc(tg.model)}</code>{refs}</p>',
            _table(header, rows, caption="Accuracy with two 95% intervals", spans=spans),
            _table(
                ["group", "predictor", "n", f"Δ self − cross [{CLU}]", esc(F.P_COLUMNS)],
                tests,
                caption="Paired tests on the same prompts",
            ),
        ]
        out += [_train(c.train, f" of {c.label}") for c in tg.cross]
    return "\n".join(out)


def _capability_html(cp: CrossPrediction) -> str:
    """The models' capability and which direction has the more capable predictor."""
    sentence = capability_sentence(cp)
    out = [f"<p>{esc(sentence)}</p>"] if sentence else []
    if cp.capability:
        rows = [
            [
                esc(m.label) + f" <code>{esc(m.model)}</code>",
                esc(F.parameters(m.parameters)),
                esc(F.mc_accuracy(m.mc_accuracy, m.mc_n)),
                esc(", ".join(m.mc_tasks) or "—"),
            ]
            for m in cp.capability
        ]
        measure = f"; measure: {esc(cp.capability_measure)}" if cp.capability_measure else ""
        out.append(
            _table(
                ["model", "parameters", "MC accuracy (n)", "MC tasks"],
                rows,
                caption=f"Capability of each model (untrained){measure}",
            )
        )
    return "\n".join(out)


def calibration_html(cal: Calibration, fig: str | None) -> str:
    out = [
        _figure(
            fig,
            "Calibration curves",
            "Per panel: mean hypothetical probability against mean object-level probability in 10 "
            "equal-frequency bins of the top-3 object-level values; dashed: perfect calibration.",
        )
    ]
    ranks = sorted({k for p in cal.panels for c in p.conditions for k in c.mad_by_rank})
    header = [
        "task · property",
        "condition",
        "MAD",
        *(f"MAD {esc(k)}" for k in ranks),
        "prompts",
        "covered mass (object / hypothetical)",
        "non-compliant mass (dropped)",
        "method",
        "object model",
        "hypothetical model",
    ]
    rows = [
        [
            esc(f"{p.task} · {F.group_label(p.property)}"),
            esc(c.label),
            esc(F.mad(c.mad)),
            *(esc(F.mad(c.mad_by_rank.get(k))) for k in ranks),
            esc(F.count(c.n_prompts if c.n_prompts is not None else p.n_prompts)),
            esc(_coverage(c.object_coverage, c.meta_coverage) + (" ⚠ low" if c.low_coverage else "")),
            esc(F.pct(c.object_noncompliant) if c.object_noncompliant is not None else "—"),
            esc(_methods(p.method, c.methods, p.samples)),
            esc(c.object_model or "—"),
            esc(c.hypothetical_model or "—"),
        ]
        for p in cal.panels
        for c in p.conditions
    ]
    floors = {p.coverage_floor for p in cal.panels if p.coverage_floor is not None}
    note = (
        f"; ⚠ low: a side covers less than {min(floors):.0%} of the probability mass, so renormalising may move "
        f"points by more than {100 * (1 - min(floors)):.0f} MAD points"
        if floors
        else ""
    )
    out.append(_table(header, rows, caption=f"MAD ×100 (lower is better){note}"))
    tests = [(p, p.self_vs_cross) for p in cal.panels if p.self_vs_cross is not None]
    if tests:
        cells = [
            [
                esc(f"{p.task} · {F.group_label(p.property)}"),
                esc(t.a),
                esc(t.b),
                esc(F.mad(t.mad_a)),
                esc(F.mad(t.mad_b)),
                esc(F.effect(t.diff, t.ci_low, t.ci_high, "mad")),
                esc(F.p_value(t.p)),
                esc(F.count(t.n_prompts)),
            ]
            for p, t in tests
        ]
        out.append(
            _table(
                ["task · property", "A", "B", "MAD A", "MAD B", "Δ = MAD B − MAD A [95% CI]", "p", "prompts"],
                cells,
                caption="Self-trained vs cross-trained calibration on the same prompts: Δ positive = A better "
                "calibrated; 95% prompt-bootstrap interval, two-sided p",
            )
        )
    return "\n".join(out)


def _coverage(obj: float | None, meta: float | None) -> str:
    return " / ".join("—" if x is None else f"{x:.3f}" for x in (obj, meta))


def _methods(requested: str, used: dict[str, int], samples: int | None) -> str:
    """The requested method, and what the backend actually did when it differs (with the real sample count)."""
    other = {k: v for k, v in used.items() if k != requested}
    text = requested + (f" ({samples} samples)" if samples and requested == "sampled" else "")
    if other:
        text += " — used " + ", ".join(f"{k} ×{v}" for k, v in sorted(other.items()))
        if samples and requested != "sampled":
            text += f" ({samples} samples)"
    return text


def _change_table(rows: Sequence[ChangeRow], caption: str) -> str:
    header = [
        "group",
        "n",
        "changed",
        SEM,
        CLU,
        "baseline",
        SEM,
        CLU,
        "baseline",
        DIFF,
        esc(F.P_COLUMNS),
    ]
    spans = [
        ("", 3),
        ("predicting the old behaviour", 3),
        ("predicting its new behaviour", 3),
        ("new − old", 2),
    ]
    cells = [
        [
            esc(F.group_label(r.group)),
            esc(F.count(r.n)),
            esc(F.pct(r.changed_fraction) + (f" of {F.count(r.n_compared)}" if r.n_compared else "")),
            esc(F.change_ci(r, "old")),
            esc(F.change_cluster_ci(r, "old")),
            esc(F.pct(r.baseline_old)),
            esc(F.change_ci(r, "new")),
            esc(F.change_cluster_ci(r, "new")),
            esc(F.pct(r.baseline_new)),
            *_test_cells(r),
        ]
        for r in rows
    ]
    return _table(header, cells, caption=caption, spans=spans)


def behaviour_change_html(bc: BehaviourChange, fig: str | None) -> str:
    out = [
        _figure(
            fig,
            "Behaviour change",
            "Hypothetical answers of the shifted model scored against its new "
            "behaviour and against the old model's behaviour, on prompts whose property changed; 95% CI "
            "(±1.96·SEM, the paper's); ★: mode baseline; bracket: new − old with its item-clustered bootstrap "
            "p-value.",
        )
    ]
    shift = f" on {esc(bc.shift_data)}" if bc.shift_data else ""
    out.append(
        f"<p>{esc(bc.new_model)} = {esc(bc.old_model)} fine-tuned{shift}; "
        f"{esc(F.count(bc.n_shifted))} prompts changed behaviour.</p>"
    )
    out += [_train(bc.train), _change_table(bc.rows, "All shifted prompts")]
    if bc.entropy_matched:
        out.append(_change_table(bc.entropy_matched, "Entropy-matched control (unpaired rows)"))
    if bc.answers:
        out.append(
            _table(
                [esc(h) for h in ANSWER_HEADER],
                [[esc(c) for c in answer_cells(a)] for a in bc.answers],
                caption="Answers before → after the shift, per task (collateral check, not in the paper): "
                "compliance, share of prompts whose answer changed, most common answer with its share. A "
                "collapse shows as a share near 100% or compliance near 0%.",
            )
        )
    return "\n".join(out)


def compliance_html(results: Results) -> str:
    """Hypothetical-answer compliance per group, one column per evaluated condition."""
    columns: list[tuple[str, Sequence[AccRow]]] = []
    if results.self_training:
        for m in results.self_training.models:
            columns += [(f"{m.label} untrained", m.untrained), (f"{m.label} self-trained", m.trained)]
    if results.cross_prediction:
        for tg in results.cross_prediction.targets:
            columns.append((f"{tg.label} → {tg.label}", tg.self_rows))
            columns += [(f"{c.label} → {tg.label}", c.rows) for c in tg.cross]
    kept: list[tuple[str, Sequence[AccRow]]] = []
    for name, rows in columns:
        # A cross-prediction target's self rows are usually the self-trained rows again: show them once.
        if any(r.compliance is not None for r in rows) and all(rows != other for _, other in kept):
            kept.append((name, rows))
    columns = kept
    if not columns:
        return '<p class="muted">No compliance rates recorded.</p>'
    cells = []
    for g in _groups(*(t for _, t in columns)):
        found = [find_row(t, g) for _, t in columns]
        cells.append([esc(F.group_label(g)), *(esc(F.pct(r.compliance if r else None)) for r in found)])
    return _table(
        ["group", *(esc(n) for n, _ in columns)],
        cells,
        caption="Share of hypothetical answers that passed the compliance rules",
    )


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _plain(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(_plain(x) for x in v) or "—"
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _details_html(d: dict[str, Any], skip: Sequence[str] = ()) -> str:
    """Facts a control or predictor records, compactly: scalars (and lists of them) as one "key: value · …"
    line, a dict of scalars as a small key/value table, anything else as JSON."""
    items = {k: v for k, v in d.items() if k not in skip}
    inline = [
        f"{esc(k)}: {esc(_plain(v))}"
        for k, v in items.items()
        if _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))
    ]
    out = [f'<p class="muted">{" · ".join(inline)}</p>'] if inline else []
    for k, v in items.items():
        if _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v)):
            continue
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            out.append(_grid(k, v))
        elif isinstance(v, dict) and v:
            out.append(_kv(v, k))
        else:
            out.append(f"<h4>{esc(k)}</h4>{_json(v)}")
    return "".join(out)


def _grid(caption: str, d: dict[str, dict[str, Any]]) -> str:
    """A dict of dicts (a curve per predictor: {"M2": {"0": 0.31, "4": 0.38}}) as rows × columns."""
    cols: list[str] = []
    for inner in d.values():
        cols += [c for c in inner if c not in cols]

    def cell(inner: dict[str, Any], c: str) -> str:
        if c not in inner:
            return ""
        return esc(_plain(inner[c])) if _scalar(inner[c]) else _json(inner[c])

    rows = [[esc(k), *(cell(inner, c) for c in cols)] for k, inner in d.items()]
    return _table(["", *(esc(c) for c in cols)], rows, caption=esc(caption))


def _inline_details(d: dict[str, Any]) -> str:
    return " · ".join(
        f"{esc(k)}: {esc(_plain(v) if _scalar(v) else json.dumps(v, default=str))}" for k, v in d.items()
    )


def _survival_html(s: C.Survival) -> str:
    items = "; ".join(
        f'{esc(who)} {_badge(v) if v else esc(C.NO_VERDICT)} <span class="nw">({esc(eff)})</span>'
        for who, v, eff in s.items
    )
    return f"<p><strong>What survives:</strong> {esc(s.head)}{': ' + items if items else ''}.</p>"


def control_html(results: Results, section: ControlSection, rules: dict[str, str]) -> str:
    """One control: title, question, target, the table (self first, then each predictor: accuracy with its
    item-clustered interval, n, mode baseline, Δ self − predictor with its clustered interval and p, the
    evidence table's verdict), what survives, notes and details."""
    comps = C.comparisons(results, section)
    own = find_row(section.self_rows)
    header = [
        "predictor",
        "model",
        "n",
        f"accuracy [{CLU}]",
        "baseline",
        f"Δ self − predictor [{CLU}]",
        "p (clustered)",
        "verdict",
    ]
    rows: list[list[str]] = []
    notes: list[str] = []
    if own is not None:
        rows.append(
            [
                esc(f"self ({section.target})"),
                f"<code>{esc(section.target_model)}</code>",
                esc(F.count(own.n)),
                esc(F.acc_clustered(own)),
                esc(F.pct(own.baseline)),
                "—",
                "—",
                "",
            ]
        )
        notes.append("")
    for c in comps:
        p = c.predictor
        same = (
            f'<span class="muted">self under this condition: {esc(F.acc_clustered(c.self_row))}</span>'
            if p.self_rows is not None and c.self_row is not None
            else ""
        )
        if not p.claim:
            verdict = f'<span class="muted">{esc(C.REFERENCE)}</span>'
        else:
            verdict = _badge(c.verdict, rules.get(c.verdict)) if c.verdict else esc(C.NO_VERDICT)
        if extra := C.seeds_effect(c):
            verdict += f'<span class="muted">{esc(extra)}</span>'
        rows.append(
            [
                esc(C.predictor_name(p)) + same,
                f"<code>{esc(p.model)}</code>" if p.model else '<span class="muted">no language model</span>',
                esc(F.count(c.row.n if c.row else None)),
                esc(F.acc_clustered(c.row) if c.row else "n/a"),
                esc(F.pct(c.row.baseline if c.row else None)),
                esc(F.verdict_diff(c.test)),
                esc(F.p_value(F.verdict_p(c.test))),
                verdict,
            ]
        )
        notes.append(
            "<br>".join(
                [
                    *([f"<strong>Note:</strong> {esc(p.note)}"] if p.note else []),
                    *([_inline_details(p.details)] if p.details else []),
                ]
            )
        )
    out = [
        f'<h3 id="{control_id(section.control)}">{esc(section.title)}</h3>',
        f"<p>{esc(section.question)}</p>" if section.question else "",
        f'<p class="muted">Target: {esc(section.target)} <code>{esc(section.target_model)}</code></p>',
    ]
    if rows:
        out.append(
            _table(
                header,
                rows,
                caption="The target predicting itself and each predictor, on the same prompts",
                cls="controls",
                notes=notes,
            )
        )
        out.append(_survival_html(C.survival(comps)))
    else:
        out.append('<p class="muted">No predictors scored.</p>')
    if section.notes:
        out.append('<ul class="checks">' + "".join(f"<li>{esc(n)}</li>" for n in section.notes) + "</ul>")
    if section.details.get("checks"):
        out.append('<p class="muted">Checks: see <a href="#hygiene">Data hygiene</a>.</p>')
    out.append(_details_html(section.details, skip=("checks",)))
    return "\n".join(x for x in out if x)


def controls_html(results: Results) -> str:
    """Every control, in run order (the data-hygiene checks have a section of their own)."""
    rules = results.evidence.rules if results.evidence else {}
    intro = (
        '<p class="muted">What a self-prediction advantage must beat. Each control sets the target predicting '
        "itself beside other predictors of the same behaviour on the same prompts. Accuracy with its "
        "item-clustered bootstrap 95% interval (marked “(rows)” where only the row-level one exists); Δ = self "
        "− predictor with its item-clustered interval and p; the verdict is the evidence table's for that "
        "claim. A self advantage shows privileged access relative to the controls run, not that the knowledge "
        "is non-data in origin.</p>"
    )
    return "\n".join([intro, *(control_html(results, s, rules) for s in results.controls.values())])


def hygiene_html(results: Results) -> str | None:
    """The run's data-hygiene checks as a list (a failed one marked); None when none were recorded."""
    items = C.hygiene_items(results)
    if not items:
        return None
    lines = "".join(
        f'<li><strong class="failed">✗ {esc(x)}</strong></li>' if ok is False else f"<li>{esc(x)}</li>"
        for x, ok in items
    )
    return (
        '<p class="muted">Checks on the data this run trained and evaluated on: held-out prompts kept out of '
        "training, input strings not shared across properties, and any a control records.</p>"
        f'<ul class="checks">{lines}</ul>'
    )


def _json(obj: Any) -> str:
    # Key order is kept as written: the configuration is shown exactly as the run recorded it.
    return f"<pre>{esc(json.dumps(obj, indent=2, default=str, ensure_ascii=False))}</pre>"


def _kv(d: dict[str, Any], caption: str | None = None) -> str:
    if not d:
        return '<p class="muted">None recorded.</p>'

    def cell(v: Any) -> str:
        if isinstance(v, int) and not isinstance(v, bool):
            return esc(F.count(v))
        return esc(v) if isinstance(v, (str, float, bool)) or v is None else _json(v)

    rows = [[esc(k), cell(v)] for k, v in d.items()]
    return _table(["key", "value"], rows, cls="kv", caption=esc(caption) if caption else None)


def render_html(results: Results, figure_files: dict[str, str] | None = None) -> str:
    """The page as a string; `figure_files` maps experiment keys (as in `figures.FILES`) to image names."""
    figs = figure_files or {}
    run = results.run
    st, cp, cal, bc = (
        results.self_training,
        results.cross_prediction,
        results.calibration,
        results.behaviour_change,
    )
    bodies: dict[str, str | None] = {
        "self-training": self_training_html(st, figs.get("self_training")) if st else None,
        "cross-prediction": cross_prediction_html(cp, figs.get("cross_prediction")) if cp else None,
        "calibration": calibration_html(cal, figs.get("calibration")) if cal else None,
        "behaviour-change": behaviour_change_html(bc, figs.get("behaviour_change")) if bc else None,
        "compliance": compliance_html(results),
        "configuration": _json(run.config),
        "provenance": _kv(run.provenance),
    }
    when = " · ".join(
        x
        for x in (
            f"started {run.started:%Y-%m-%d %H:%M}" if run.started else "",
            f"finished {run.finished:%Y-%m-%d %H:%M}" if run.finished else "",
            f"wall {F.duration(run.wall_s)}" if run.wall_s is not None else "",
        )
        if x
    )
    found = headlines(results)
    head = (
        ('<ul class="headlines">' + "".join(f"<li>{esc(h)}</li>" for h in found) + "</ul>")
        if found
        else ('<p class="muted">No experiment results in this file.</p>')
    )
    notes = (
        (
            '<div class="notes"><strong>Notes</strong><ul>'
            + "".join(f"<li>{esc(n)}</li>" for n in run.notes)
            + "</ul></div>"
        )
        if run.notes
        else ""
    )
    multi = len(results.seeds) > 1
    seeds_note = (
        f'<p class="muted">The experiment sections show training seed {esc(results.seeds[0])} of '
        f"{len(results.seeds)} ({esc(F.seed_list(results.seeds))}); the evidence table and the Seeds section "
        "combine them.</p>"
        if multi
        else ""
    )
    sections = list(SECTIONS)
    if results.other:  # registered experiments beyond the four: their sections as data
        sections.insert(len(EXPERIMENTS), ("other", "Other experiments"))
        bodies["other"] = "".join(
            f"<h3>{esc(name)}</h3>{_json(section)}" for name, section in sorted(results.other.items())
        )
    if multi:
        sections.insert(len(EXPERIMENTS), ("seeds", "Seeds"))
        bodies["seeds"] = seeds_html(results)
    if hygiene := hygiene_html(results):
        sections.insert(len(EXPERIMENTS), ("hygiene", "Data hygiene"))
        bodies["hygiene"] = hygiene
    if results.controls:  # right after the four experiments, before hygiene, the seeds and other experiments
        sections.insert(len(EXPERIMENTS), ("controls", "Controls"))
        bodies["controls"] = controls_html(results)
    if results.evidence is not None:
        sections.insert(0, ("evidence", "Evidence"))
        present = [sid for sid in EXPERIMENTS if bodies[sid]]
        titles = {name: s.title for name, s in results.controls.items()}
        bodies["evidence"] = evidence_html(results.evidence, present, titles)
    nav = "".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title in sections)
    summary = (
        f'<section id="summary"><h2>Headline</h2>{head}{seeds_note}'
        '<p class="muted">Accuracy = micro-average over all evaluated rows with two 95% intervals: '
        "±1.96·SEM (paper, rows): the paper's error bars, which treat every (prompt, property) row as "
        f"independent, kept for comparability (in tables, the Wilson score interval where n &lt; {F.SMALL_N}); "
        "and the item-clustered bootstrap, which resamples prompts so that the properties of one answer move "
        "together. ★ = mode baseline of the same rows; Δ in percentage points with its item-clustered "
        "bootstrap 95% CI; p two-sided: item-clustered bootstrap (the one verdicts use), row bootstrap, "
        "McNemar.</p>"
        "</section>"
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>inward · {esc(run.name)}</title><style>{CSS}{EVIDENCE_CSS}</style></head><body><main>",
        f'<header><h1>{esc(run.name)}</h1><p class="muted">run <code>{esc(run.run_id)}</code>'
        f"{' · ' + esc(when) if when else ''} · results schema v{results.schema_version} · "
        '<a href="results.json">results.json</a></p></header>',
        f"<nav>{nav}</nav>",
        notes,  # caveats first: they bear on the evidence as much as on the experiments
    ]
    for sid, title in sections:
        body = bodies[sid]
        if sid == "compliance":
            parts.append(f'<section id="sizes"><h2>Sizes</h2>{_kv(run.sizes)}</section>')
        if sid == "self-training":  # the headline follows the evidence table and leads the experiments
            parts.append(summary)
        if body:
            parts.append(f'<section id="{sid}"><h2>{esc(title)}</h2>{body}</section>')
        else:
            parts.append(
                f'<section id="{sid}" class="not-run"><h2>{esc(title)}</h2>'
                "<p>Not run: this results file has no data for this experiment.</p></section>"
            )
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write_report(results: Results, out_dir: Path) -> Path:
    """Write index.html, the figures and a copy of results.json into `out_dir`; returns index.html's path.

    Figures of experiments no longer present are removed, so the folder always matches the page.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = FIG.write_figures(results, out)
    for key, name in FIG.FILES.items():
        if key not in written:
            (out / name).unlink(missing_ok=True)
    results.save(out / "results.json")
    return write_text_atomic(
        out / "index.html", render_html(results, {k: p.name for k, p in written.items()})
    )
