"""The data the four experiments' sections and the compliance section lay out (templates/self_training.html.j2,
cross_prediction, calibration, behaviour_change, compliance): per-group rows of plain-text cells, numbers
formatted by `_format`, plus the figure, the models' refs and training lines.

    from inward.report import _sections as S
    data = S.self_training(results.self_training, "fig4_self_training.png")   # {"figure", "tasks", "models"}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inward.report import _format as F
from inward.report._cells import Cell, Code, Figure, Table, table
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
)
from inward.report.summary import (
    ANSWER_HEADER,
    answer_cells,
    capability_sentence,
    capable_tag,
    target_heading,
)

SEM = "±1.96·SEM (paper, rows)"
CLU = "item-clustered bootstrap"
DIFF = f"Δ [{CLU}]"
CONDITION = (SEM, CLU, "baseline", "compliance")


def _groups(*tables: Sequence[Any] | None) -> list[str]:
    seen: list[str] = []
    for t in tables:
        seen += [r.group for r in t or () if r.group not in seen]
    return [g for g in seen if g != "average"] + (["average"] if "average" in seen else [])


def _acc_cells(r: AccRow | None) -> list[Cell]:
    """The accuracy with the paper's interval, then the item-clustered bootstrap interval."""
    return ["—", "—"] if r is None else [F.acc_ci(r), F.cluster_ci(r)]


def _test_cells(t: PairedTest | ChangeRow | None) -> list[Cell]:
    return ["—", "—"] if t is None else [F.verdict_diff(t), F.p_values(t)]


def _train(stats: TrainStats | None, who: str = "") -> str | None:
    """``Training of M2: 30,000 training examples, 30m 34s wall, 16.4 examples/s, final loss 0.412.``"""
    if stats is None:
        return None
    parts = [f"{F.count(stats.examples)} training examples", f"{F.duration(stats.wall_s)} wall"]
    if stats.examples_per_s is not None:
        parts.append(f"{stats.examples_per_s:.1f} examples/s")
    if stats.final_loss is not None:
        parts.append(f"final loss {stats.final_loss:.3f}")
    return f"Training{who}: {', '.join(parts)}."


def _figure(name: str | None, alt: str, caption: str) -> Figure | None:
    return None if name is None else Figure(name, alt, caption)


def self_training(st: SelfTraining, fig: str | None) -> dict[str, Any]:
    header = ["group", "n", *CONDITION, *CONDITION, DIFF, F.P_COLUMNS]
    spans = [("", 2), ("untrained", 4), ("self-trained", 4), ("trained − untrained", 2)]
    models = []
    for m in st.models:
        rows = []
        for g in _groups(m.untrained, m.trained):
            u, t = find_row(m.untrained, g), find_row(m.trained, g)
            rows.append(
                [
                    F.group_label(g),
                    " / ".join(F.count(n) for n in sorted({r.n for r in (u, t) if r is not None})),
                    *_acc_cells(u),
                    F.pct(u.baseline if u else None),
                    F.pct(u.compliance if u else None),
                    *_acc_cells(t),
                    F.pct(t.baseline if t else None),
                    F.pct(t.compliance if t else None),
                    *_test_cells(find_row(m.tests, g)),
                ]
            )
        models.append(
            {
                "label": m.label,
                "model": m.model,
                "trained_model": m.trained_model,
                "train": _train(m.train),
                "table": table(header, rows, spans=spans),
            }
        )
    return {
        "figure": _figure(
            fig,
            "Self-prediction accuracy before and after training",
            "Bars: accuracy per property and micro-average with 95% CI (±1.96·SEM, the paper's); ★: mode "
            "baseline of the same rows; bracket: trained − untrained with its item-clustered bootstrap p-value.",
        ),
        "tasks": ", ".join(st.tasks),
        "models": models,
    }


def cross_prediction(cp: CrossPrediction, fig: str | None) -> dict[str, Any]:
    targets = []
    for tg in cp.targets:
        header = ["group", "n", "baseline", "compliance", *[SEM, CLU] * (1 + len(tg.cross))]
        spans = [("", 4), (f"self ({tg.label})", 2), *((c.label, 2) for c in tg.cross)]
        rows = []
        for g in _groups(tg.self_rows, *(c.rows for c in tg.cross)):
            own = find_row(tg.self_rows, g)
            cells: list[Cell] = [
                F.group_label(g),
                F.count(own.n if own else None),
                F.pct(own.baseline if own else None),
                F.pct(own.compliance if own else None),
                *_acc_cells(own),
            ]
            rows.append(cells + [x for c in tg.cross for x in _acc_cells(find_row(c.rows, g))])
        tests = [
            [F.group_label(t.group), c.label, F.count(t.n), *_test_cells(t)]
            for c in tg.cross
            for t in c.tests
        ]
        tags = [t for c in tg.cross if (t := capable_tag(c))]
        targets.append(
            {
                "heading": target_heading(cp, tg),
                "tag": tags[0] if len(tg.cross) == 1 and tags else None,
                "model": tg.model,
                "refs": [(c.label, c.model) for c in tg.cross],
                "table": table(header, rows, caption="Accuracy with two 95% intervals", spans=spans),
                "tests": table(
                    ["group", "predictor", "n", f"Δ self − cross [{CLU}]", F.P_COLUMNS],
                    tests,
                    caption="Paired tests on the same prompts",
                ),
                "train": [x for c in tg.cross if (x := _train(c.train, f" of {c.label}"))],
            }
        )
    capability = None
    if cp.capability:
        measure = f"; measure: {cp.capability_measure}" if cp.capability_measure else ""
        capability = table(
            ["model", "parameters", "MC accuracy (n)", "MC tasks"],
            [
                [
                    [m.label, " ", Code(m.model)],
                    F.parameters(m.parameters),
                    F.mc_accuracy(m.mc_accuracy, m.mc_n),
                    ", ".join(m.mc_tasks) or "—",
                ]
                for m in cp.capability
            ],
            caption=f"Capability of each model (untrained){measure}",
        )
    return {
        "figure": _figure(
            fig,
            "Self-prediction versus cross-prediction accuracy",
            "Bars: accuracy predicting the target's behaviour, per property and micro-average, 95% CI "
            "(±1.96·SEM, the paper's); ★: mode baseline; brackets: self − cross with item-clustered "
            "bootstrap p-values.",
        ),
        "tasks": ", ".join(cp.tasks),
        "capability_sentence": capability_sentence(cp),
        "capability": capability,
        "targets": targets,
    }


def calibration(cal: Calibration, fig: str | None) -> dict[str, Any]:
    ranks = sorted({k for p in cal.panels for c in p.conditions for k in c.mad_by_rank})
    header = [
        "task · property",
        "condition",
        "MAD",
        *(f"MAD {k}" for k in ranks),
        "prompts",
        "covered mass (object / hypothetical)",
        "non-compliant mass (dropped)",
        "method",
        "object model",
        "hypothetical model",
    ]
    rows = [
        [
            f"{p.task} · {F.group_label(p.property)}",
            c.label,
            F.mad(c.mad),
            *(F.mad(c.mad_by_rank.get(k)) for k in ranks),
            F.count(c.n_prompts if c.n_prompts is not None else p.n_prompts),
            _coverage(c.object_coverage, c.hypothetical_coverage) + (" ⚠ low" if c.low_coverage else ""),
            F.pct(c.object_noncompliant) if c.object_noncompliant is not None else "—",
            _methods(p.method, c.methods, p.samples),
            c.object_model or "—",
            c.hypothetical_model or "—",
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
    tests = [
        [
            f"{p.task} · {F.group_label(p.property)}",
            t.a,
            t.b,
            F.mad(t.mad_a),
            F.mad(t.mad_b),
            F.effect(t.diff, t.ci_low, t.ci_high, "mad"),
            F.p_value(t.p),
            F.count(t.n_prompts),
        ]
        for p in cal.panels
        if (t := p.self_vs_cross) is not None
    ]
    return {
        "figure": _figure(
            fig,
            "Calibration curves",
            "Per panel: mean hypothetical probability against mean object-level probability in 10 "
            "equal-frequency bins of the top-3 object-level values; dashed: perfect calibration.",
        ),
        "table": table(header, rows, caption=f"MAD ×100 (lower is better){note}"),
        "tests": table(
            ["task · property", "A", "B", "MAD A", "MAD B", "Δ = MAD B − MAD A [95% CI]", "p", "prompts"],
            tests,
            caption="Self-trained vs cross-trained calibration on the same prompts: Δ positive = A better "
            "calibrated; 95% prompt-bootstrap interval, two-sided p",
        )
        if tests
        else None,
    }


def _coverage(obj: float | None, hyp: float | None) -> str:
    return " / ".join("—" if x is None else f"{x:.3f}" for x in (obj, hyp))


def _methods(requested: str, used: dict[str, int], samples: int | None) -> str:
    """The requested method, and what the backend actually did when it differs (with the real sample count)."""
    other = {k: v for k, v in used.items() if k != requested}
    text = requested + (f" ({samples} samples)" if samples and requested == "sampled" else "")
    if other:
        text += " — used " + ", ".join(f"{k} ×{v}" for k, v in sorted(other.items()))
        if samples and requested != "sampled":
            text += f" ({samples} samples)"
    return text


def _change_table(rows: Sequence[ChangeRow], caption: str) -> Table:
    header = ["group", "n", "changed", SEM, CLU, "baseline", SEM, CLU, "baseline", DIFF, F.P_COLUMNS]
    spans = [
        ("", 3),
        ("predicting the old behaviour", 3),
        ("predicting its new behaviour", 3),
        ("new − old", 2),
    ]
    cells = [
        [
            F.group_label(r.group),
            F.count(r.n),
            F.pct(r.changed_fraction) + (f" of {F.count(r.n_compared)}" if r.n_compared else ""),
            F.change_ci(r, "old"),
            F.change_cluster_ci(r, "old"),
            F.pct(r.baseline_old),
            F.change_ci(r, "new"),
            F.change_cluster_ci(r, "new"),
            F.pct(r.baseline_new),
            *_test_cells(r),
        ]
        for r in rows
    ]
    return table(header, cells, caption=caption, spans=spans)


def behaviour_change(bc: BehaviourChange, fig: str | None) -> dict[str, Any]:
    tables = [_change_table(bc.rows, "All shifted prompts")]
    if bc.entropy_matched:
        tables.append(_change_table(bc.entropy_matched, "Entropy-matched control (unpaired rows)"))
    if bc.answers:
        tables.append(
            table(
                ANSWER_HEADER,
                [answer_cells(a) for a in bc.answers],
                caption="Answers before → after the shift, per task (collateral check, not in the paper): "
                "compliance, share of prompts whose answer changed, most common answer with its share. A "
                "collapse shows as a share near 100% or compliance near 0%.",
            )
        )
    return {
        "figure": _figure(
            fig,
            "Behaviour change",
            "Hypothetical answers of the shifted model scored against its new "
            "behaviour and against the old model's behaviour, on prompts whose property changed; 95% CI "
            "(±1.96·SEM, the paper's); ★: mode baseline; bracket: new − old with its item-clustered bootstrap "
            "p-value.",
        ),
        "new_model": bc.new_model,
        "old_model": bc.old_model,
        "shift_data": bc.shift_data,
        "n_shifted": F.count(bc.n_shifted),
        "train": _train(bc.train),
        "tables": tables,
    }


def compliance(results: Results) -> Table | None:
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
    if not kept:
        return None
    cells = [
        [F.group_label(g), *(F.pct(r.compliance if r else None) for r in (find_row(t, g) for _, t in kept))]
        for g in _groups(*(t for _, t in kept))
    ]
    return table(
        ["group", *(n for n, _ in kept)],
        cells,
        caption="Share of hypothetical answers that passed the compliance rules",
    )
