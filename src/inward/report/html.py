"""A self-contained HTML report: one page, inline CSS, no JavaScript, figures as PNG files beside it.

    from inward.report import Results, write_report
    index = write_report(Results.load("runs/demo/results.json"), Path("runs/demo/report"))
    # runs/demo/report/{index.html, results.json, fig4_self_training.png, …}; open index.html in any browser

Sections: headline findings, one section per experiment (figure + per-group tables; "not run" when absent),
compliance, sizes, the exact configuration and provenance. Every piece of text from the results is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from inward.report import _format as F
from inward.report import figures as FIG
from inward.report._style import CSS
from inward.report.results import (
    AccRow,
    BehaviourChange,
    Calibration,
    ChangeRow,
    CrossPrediction,
    PairedTest,
    Results,
    SelfTraining,
    TrainStats,
    find_row,
    write_text_atomic,
)
from inward.report.summary import ANSWER_HEADER, answer_cells, headlines

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


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
    spans: Sequence[tuple[str, int]] = (),
    cls: str = "",
) -> str:
    """A table from already-escaped cells. ``spans`` adds a header row above, as (label, columns) pairs. A row
    whose first cell is "Average" is styled as the total."""
    top = "".join(f'<th colspan="{n}" class="span">{label}</th>' for label, n in spans)
    head = (f"<tr>{top}</tr>" if spans else "") + "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = []
    for r in rows:
        cls = ' class="avg"' if r and r[0] == "Average" else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
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
        out += [
            f"<h3>Predicting {esc(tg.label)}</h3>",
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


def _json(obj: Any) -> str:
    # Key order is kept as written: the configuration is shown exactly as the run recorded it.
    return f"<pre>{esc(json.dumps(obj, indent=2, default=str, ensure_ascii=False))}</pre>"


def _kv(d: dict[str, Any]) -> str:
    if not d:
        return '<p class="muted">None recorded.</p>'

    def cell(v: Any) -> str:
        if isinstance(v, int) and not isinstance(v, bool):
            return esc(F.count(v))
        return esc(v) if isinstance(v, (str, float, bool)) or v is None else _json(v)

    rows = [[esc(k), cell(v)] for k, v in d.items()]
    return _table(["key", "value"], rows, cls="kv")


def render_html(results: Results, figure_files: dict[str, str] | None = None) -> str:
    """The page as a string; `figure_files` maps experiment keys (as in `figures.FILES`) to image names."""
    figs = figure_files or {}
    run = results.run
    bodies = {
        "self-training": results.self_training
        and self_training_html(results.self_training, figs.get("self_training")),
        "cross-prediction": results.cross_prediction
        and cross_prediction_html(results.cross_prediction, figs.get("cross_prediction")),
        "calibration": results.calibration and calibration_html(results.calibration, figs.get("calibration")),
        "behaviour-change": results.behaviour_change
        and behaviour_change_html(results.behaviour_change, figs.get("behaviour_change")),
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
    nav = "".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title in SECTIONS)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>inward · {esc(run.name)}</title><style>{CSS}</style></head><body><main>",
        f'<header><h1>{esc(run.name)}</h1><p class="muted">run <code>{esc(run.run_id)}</code>'
        f"{' · ' + esc(when) if when else ''} · results schema v{results.schema_version} · "
        '<a href="results.json">results.json</a></p></header>',
        f"<nav>{nav}</nav>",
        f'<section id="summary"><h2>Headline</h2>{head}{notes}'
        '<p class="muted">Accuracy = micro-average over all evaluated rows with two 95% intervals: '
        "±1.96·SEM (paper, rows): the paper's error bars, which treat every (prompt, property) row as "
        f"independent, kept for comparability (in tables, the Wilson score interval where n &lt; {F.SMALL_N}); "
        "and the item-clustered bootstrap, which resamples prompts so that the properties of one answer move "
        "together. ★ = mode baseline of the same rows; Δ in percentage points with its item-clustered "
        "bootstrap 95% CI; p two-sided: item-clustered bootstrap (the one verdicts use), row bootstrap, "
        "McNemar.</p>"
        "</section>",
    ]
    for sid, title in SECTIONS:
        body = bodies[sid]
        if sid == "compliance":
            parts.append(f'<section id="sizes"><h2>Sizes</h2>{_kv(run.sizes)}</section>')
        if body:
            parts.append(f'<section id="{sid}"><h2>{esc(title)}</h2>{body}</section>')
        else:
            parts.append(
                f'<section id="{sid}" class="not-run"><h2>{esc(title)}</h2>'
                "<p>Not run: this results file has no data for this experiment.</p></section>"
            )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


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
