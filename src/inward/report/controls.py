"""The control battery in the report: each control's predictors beside the target predicting itself, the
evidence table's verdict for each, and the run's data-hygiene checks (plain text; the HTML page escapes it).

    from inward.report.controls import comparisons, controls_lines, hygiene_lines
    for c in comparisons(results, results.controls["sibling"]):
        print(comparison_line(c))   # self 48.1% vs its sibling (M1) 40.2%: +7.9 pp [+1.0, +14.8], p=0.030, ✓ supports

Verdicts are never recomputed here: a claimed predictor's verdict is the evidence row with the key
``f"{control}:{predictor.name}"`` (the key `Control.claims` gives it), or "no verdict recorded" without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inward.report import _format as F
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
