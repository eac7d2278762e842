"""The control battery in the report: each control's predictors beside the target predicting itself, the
evidence table's verdict for each, and the run's data-hygiene checks (plain text; the HTML page escapes it).

    from inward.report.controls import comparisons, controls_lines, hygiene_lines
    for c in comparisons(results, results.controls["sibling"]):
        print(comparison_line(c))   # self 48.1% vs its sibling (M1) 40.2%: +7.9 pp [+1.0, +14.8], p=0.030, ✓ supports

`controls_data` prepares the page's Controls section for its template (templates/controls.html.j2).

Verdicts are never recomputed here: a claimed predictor's verdict is the evidence row with the key
``f"{control}:{predictor.name}"`` (the key `Control.claims` gives it), or "no verdict recorded" without one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inward.report import _format as F
from inward.report._cells import (
    Badge,
    Cell,
    Code,
    JsonBlock,
    Part,
    Pre,
    Strong,
    Table,
    json_text,
    kv_table,
    lines,
    muted,
    nw,
    table,
)
from inward.report.results import (
    AccRow,
    ControlPredictor,
    ControlSection,
    EvidenceRow,
    PairedTest,
    Results,
    find_row,
)

NO_VERDICT = "no verdict recorded"
CLU = "item-clustered bootstrap"
REFERENCE = "reference (not claimed)"


@dataclass(frozen=True)
class Comparison:
    """One predictor of a control beside the target predicting itself (micro-average rows)."""

    predictor: ControlPredictor
    self_row: AccRow | None  # the target predicting itself: under this condition where it has its own rows
    row: AccRow | None
    test: PairedTest | None  # A = target self, B = this predictor
    evidence: EvidenceRow | None  # the evidence table's row for this claim, when there is one

    @property
    def verdict(self) -> str | None:
        return self.evidence.verdict if self.evidence is not None else None


def evidence_key(section: ControlSection, p: ControlPredictor) -> str:
    return f"{section.control}:{p.name}"


def comparisons(results: Results, section: ControlSection) -> list[Comparison]:
    rows = {r.key: r for r in results.evidence.rows} if results.evidence else {}
    return [
        Comparison(
            predictor=p,
            self_row=find_row(p.self_rows if p.self_rows is not None else section.self_rows),
            row=find_row(p.rows),
            test=find_row(p.tests),
            evidence=rows.get(evidence_key(section, p)) if p.claim else None,
        )
        for p in section.predictors
    ]


def predictor_name(p: ControlPredictor) -> str:
    """``its sibling (M1-sibling)``, with the condition's name where the predictor's label lacks it."""
    return p.predictor if p.name in p.predictor else f"{p.predictor} ({p.name})"


def verdict_text(c: Comparison) -> str:
    """``✓ supports`` (the evidence row's), ``reference (not claimed)`` or ``no verdict recorded``."""
    if not c.predictor.claim:
        return REFERENCE
    return F.verdict_label(c.verdict) if c.verdict else NO_VERDICT


def seeds_effect(c: Comparison) -> str | None:
    """``over 3 seeds: +7.0 pp [+2.0, +12.0]``: the effect the verdict was reached on, where it combines
    seeds (the control's own numbers are the first seed's); None otherwise."""
    ev = c.evidence
    if ev is None or len(ev.seeds) <= 1:
        return None
    return f"over {len(ev.seeds)} seeds: {F.effect(ev.effect, ev.ci_low, ev.ci_high, ev.unit)}"


def comparison_line(c: Comparison) -> str:
    """``self 48.1% vs its sibling (M1) 40.2%: +7.9 pp [+1.0, +14.8], p=0.030, ✓ supports``; the accuracies
    are the paired test's (same prompts), so they differ by the Δ shown."""
    t = c.test
    a = t.acc_a if t else c.self_row.acc if c.self_row else None
    b = t.acc_b if t else c.row.acc if c.row else None
    me = "self (same condition)" if c.predictor.self_rows is not None else "self"
    diff = f"{F.verdict_diff(t)}, {F.fmt_p(F.verdict_p(t))}" if t else "no paired test"
    line = f"{me} {F.pct(a)} vs {predictor_name(c.predictor)} {F.pct(b)}: {diff}, {verdict_text(c)}"
    if extra := seeds_effect(c):
        line += f" ({extra})"
    return line


@dataclass(frozen=True)
class Survival:
    """What survives a control: how many claimed predictors self-prediction beats by the evidence table."""

    head: str
    items: list[tuple[str, str | None, str]]  # (predictor, verdict or None, effect [CI])


def survival(comps: Sequence[Comparison]) -> Survival:
    claimed = [c for c in comps if c.predictor.claim]
    if not claimed:
        return Survival("no predictor of this control is claimed against (reference rows only)", [])
    items = []
    for c in claimed:
        ev = c.evidence
        effect = F.effect(ev.effect, ev.ci_low, ev.ci_high, ev.unit) if ev else F.verdict_diff(c.test)
        items.append((predictor_name(c.predictor), c.verdict, effect))
    if not any(c.evidence for c in claimed):
        return Survival("no verdict recorded (these results have no evidence rows for this control)", items)
    held = sum(c.verdict == "supports" for c in claimed)
    return Survival(f"self-prediction beats {held} of {len(claimed)} claimed predictors", items)


def survival_text(s: Survival) -> str:
    """``self-prediction beats 1 of 2 claimed predictors: its sibling: ✓ supports (+7.9 pp [+1.0, +14.8]); …``"""
    items = "; ".join(f"{who}: {F.verdict_label(v) if v else NO_VERDICT} ({eff})" for who, v, eff in s.items)
    return f"{s.head}: {items}" if items else s.head


def hygiene_checks(results: Results) -> list[tuple[ControlSection, str]]:
    """Every control's ``details["checks"]`` lines (data-hygiene facts), in control order."""
    out = []
    for section in results.controls.values():
        checks = section.details.get("checks")
        if isinstance(checks, str):
            checks = [checks]
        out += [(section, str(x)) for x in checks or ()]
    return out


def hygiene_items(results: Results) -> list[tuple[str, bool | None]]:
    """The run's data-hygiene checks as (line, ok): the checks every run makes (``results.hygiene``), then any
    control's check lines (ok unknown: they say it themselves), prefixed with the control's title when the
    lines come from more than one place."""
    out: list[tuple[str, bool | None]] = [
        (f"{c.check}: {'ok' if c.ok else 'FAILED'} ({c.detail})", c.ok) for c in results.hygiene
    ]
    found = hygiene_checks(results)
    several = len({id(s) for s, _ in found}) + bool(out) > 1
    return out + [(f"{s.title}: {x}" if several else x, None) for s, x in found]


def _md(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def controls_lines(results: Results) -> list[str]:
    """A compact markdown block: per control its title and target, then one line per predictor."""
    if not results.controls:
        return []
    out = [
        "### Controls: what a self-prediction advantage must beat (Δ = self − predictor on the same prompts, "
        "item-clustered 95% CI; verdicts from the evidence table)",
        "",
    ]
    for section in results.controls.values():
        out += [f"**{_md(section.title)}**, predicting {_md(section.target)}:", ""]
        comps = comparisons(results, section)
        for c in comps:
            note = f" — {_md(c.predictor.note)}" if c.predictor.note else ""
            out.append(f"- {_md(comparison_line(c))}{note}")
        if not comps:
            out.append("- no predictors scored")
        out += ["", f"What survives: {_md(survival_text(survival(comps)))}.", ""]
    return out[:-1]


def hygiene_lines(results: Results) -> list[str]:
    items = hygiene_items(results)
    if not items:
        return []
    return ["### Data hygiene", "", *(f"- {'✗ ' if ok is False else ''}{_md(x)}" for x, ok in items)]


# --- the page's Controls section: data for templates/controls.html.j2 ---


def control_id(name: str) -> str:
    """The element id of a control's block: ``control-seed-sibling``."""
    return "control-" + ("".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "x")


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


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _flat(v: Any) -> bool:
    return _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))


def _grid(caption: str, d: dict[str, dict[str, Any]]) -> Table:
    """A dict of dicts (a curve per predictor: {"M2": {"0": 0.31, "4": 0.38}}) as rows × columns."""
    cols: list[str] = []
    for inner in d.values():
        cols += [c for c in inner if c not in cols]

    def cell(inner: dict[str, Any], c: str) -> Cell:
        if c not in inner:
            return ""
        return _plain(inner[c]) if _scalar(inner[c]) else [Pre(json_text(inner[c]))]

    return table(
        ["", *cols], [[k, *(cell(inner, c) for c in cols)] for k, inner in d.items()], caption=caption
    )


def details(d: dict[str, Any], skip: Sequence[str] = ()) -> dict[str, Any]:
    """Facts a control or predictor records, compactly: scalars (and lists of them) as one "key: value · …"
    line, a dict of dicts as a grid, a dict as a small key/value table, anything else as JSON."""
    items = {k: v for k, v in d.items() if k not in skip}
    blocks: list[Table | JsonBlock] = []
    for k, v in items.items():
        if _flat(v):
            continue
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            blocks.append(_grid(k, v))
        elif isinstance(v, dict) and (kv := kv_table(v, k)):
            blocks.append(kv)
        else:
            blocks.append(JsonBlock(k, json_text(v)))
    inline = " · ".join(f"{k}: {_plain(v)}" for k, v in items.items() if _flat(v))
    return {"inline": inline, "blocks": blocks}


def _inline_details(d: dict[str, Any]) -> str:
    return " · ".join(f"{k}: {_plain(v) if _scalar(v) else json.dumps(v, default=str)}" for k, v in d.items())


def control_data(results: Results, section: ControlSection, rules: dict[str, str]) -> dict[str, Any]:
    """One control: title, question, target, the table (self first, then each predictor: accuracy with its
    item-clustered interval, n, mode baseline, Δ self − predictor with its clustered interval and p, the
    evidence table's verdict), what survives, notes and details."""
    comps = comparisons(results, section)
    own = find_row(section.self_rows)
    rows: list[list[Cell]] = []
    notes: list[Cell] = []
    if own is not None:
        rows.append(
            [
                f"self ({section.target})",
                [Code(section.target_model)],
                F.count(own.n),
                F.acc_clustered(own),
                F.pct(own.baseline),
                "—",
                "—",
                "",
            ]
        )
        notes.append("")
    for c in comps:
        p = c.predictor
        same = (
            [muted(f"self under this condition: {F.acc_clustered(c.self_row)}")]
            if p.self_rows is not None and c.self_row is not None
            else []
        )
        verdict: list[Part]
        if not p.claim:
            verdict = [muted(REFERENCE)]
        else:
            verdict = [Badge(c.verdict, rules.get(c.verdict))] if c.verdict else [NO_VERDICT]
        if extra := seeds_effect(c):
            verdict.append(muted(extra))
        rows.append(
            [
                [predictor_name(p), *same],
                [Code(p.model)] if p.model else [muted("no language model")],
                F.count(c.row.n if c.row else None),
                F.acc_clustered(c.row) if c.row else "n/a",
                F.pct(c.row.baseline if c.row else None),
                F.verdict_diff(c.test),
                F.p_value(F.verdict_p(c.test)),
                verdict,
            ]
        )
        notes.append(
            lines(
                [Strong("Note:"), f" {p.note}"] if p.note else [],
                [_inline_details(p.details)] if p.details else [],
            )
        )
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
    caption = "The target predicting itself and each predictor, on the same prompts"
    s = survival(comps)
    return {
        "id": control_id(section.control),
        "title": section.title,
        "question": section.question,
        "target": section.target,
        "target_model": section.target_model,
        "table": table(header, rows, caption=caption, cls="controls", notes=notes) if rows else None,
        "survival": s.head,
        "survivors": [
            [who, " ", Badge(v) if v else NO_VERDICT, " ", nw(f"({eff})")] for who, v, eff in s.items
        ],
        "notes": section.notes,
        "checks": bool(section.details.get("checks")),
        "details": details(section.details, skip=("checks",)),
    }


def controls_data(results: Results) -> list[dict[str, Any]]:
    """Every control, in run order (the data-hygiene checks have a section of their own)."""
    rules = results.evidence.rules if results.evidence else {}
    return [control_data(results, s, rules) for s in results.controls.values()]
