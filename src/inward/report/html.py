"""A self-contained HTML report: one page, inline CSS, no JavaScript, figures as PNG files beside it.

    from inward.report import Results, write_report
    index = write_report(Results.load("runs/demo/results.json"), Path("runs/demo/report"))
    # runs/demo/report/{index.html, results.json, fig4_self_training.png, …}; open index.html in any browser

Sections: the run's notes, the evidence table (one row per claim of the paper, with verdict badges and the
verdict rules; absent in results written before it existed), headline findings, one section per experiment
(figure + per-group tables; "not run" when absent), the controls (when run: each predictor beside the target
predicting itself, with the evidence table's verdict, and the data-hygiene checks), the seeds (more than one
training seed), compliance, sizes, the exact configuration and provenance.

The page is laid out by the jinja2 templates in ``templates/`` (autoescape on, strict undefined); this module
only prepares their data: rows of plain-text cells (numbers formatted by `_format`) and the few typed parts of
`_cells`. Every string from the results is escaped once, by the templates; the only markup passed through is the
page's own stylesheet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from inward.report import _format as F
from inward.report import _sections as S
from inward.report import controls as C
from inward.report import figures as FIG
from inward.report._cells import (
    Badge,
    Cell,
    Link,
    Part,
    Strong,
    json_text,
    kv_table,
    lines,
    muted,
    nw,
    table,
)
from inward.report._style import CSS
from inward.report.results import (
    Evidence,
    EvidenceRow,
    Results,
    RunInfo,
    SeedEffect,
    write_text_atomic,
)
from inward.report.summary import (
    evidence_footer,
    headlines,
    multi_seed,
    paper_effect,
    row_seeds_agree,
    seed_columns,
)

EXPERIMENTS = {
    "self-training": "Self-prediction training (Fig. 4)",
    "cross-prediction": "Cross-prediction (Fig. 5)",
    "calibration": "Calibration (Fig. 6)",
    "behaviour-change": "Behaviour change (Fig. 8)",
}


@cache
def environment() -> Environment:
    """The templates' environment: every ``{{ value }}`` escaped, an undefined name an error."""
    return Environment(
        loader=PackageLoader("inward.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Section:
    """A ``<section>`` of the page: its template (None: "not run") and that template's data."""

    id: str
    title: str
    template: str | None
    data: Any = None
    nav: bool = True


# --- the evidence table and the seeds ---


def _experiment_link(experiment: str, present: Iterable[str], controls: dict[str, str]) -> Link | str:
    """A link to the experiment's section; `controls` (name → title) links a control's rows to its block."""
    if experiment in controls:
        return Link(f"#{C.control_id(experiment)}", controls[experiment])
    sid = experiment.replace("_", "-")
    if sid in present:
        return Link(f"#{sid}", EXPERIMENTS[sid])
    return EXPERIMENTS.get(sid, experiment)


def _seed_cells(r: EvidenceRow) -> list[Cell]:
    """Each seed's effect, without the unit the effect column names (and its own verdict where it differs
    from the row's), then whether the seeds agree."""

    def seed(s: SeedEffect) -> list[Part]:
        own: list[Part] = [" ", nw(f"({F.verdict_label(s.verdict)})")] if s.verdict != r.verdict else []
        return [nw(f"seed {s.seed}: {F.signed(s.effect, r.unit)}"), *own]

    seeds = lines(*(seed(s) for s in r.seeds))
    spread = [muted(f"sd {F.magnitude(r.spread, r.unit)}")] if r.spread is not None else []
    return [seeds or "—", [row_seeds_agree(r), *spread]]


def _n_cell(r: EvidenceRow) -> Cell:
    """Prompts (what the intervals resample), with the rows beneath when they differ."""
    if r.n_clusters is None:
        return F.count(r.n)
    rows = [muted(f"{F.count(r.n)} rows")] if r.n not in (None, r.n_clusters) else []
    return [f"{F.count(r.n_clusters)} prompts", *rows]


def _evidence(ev: Evidence, present: Iterable[str], controls: dict[str, str]) -> dict[str, Any]:
    """The evidence table (a row's note and the paper's source in a full-width row below), the verdict rules,
    α, power and the seeds. `present`: the experiment sections with data; `controls`: name → title."""
    present = set(present)
    multi = multi_seed(ev)
    header = [
        "claim",
        "comparison",
        "n",
        "effect [95% CI]",
        "p",
        f"detectable ({ev.power:.0%} power)",
        "paper",
        "verdict",
        *(["per seed", "seeds agree"] if multi else []),
    ]
    rows: list[list[Cell]] = [
        [
            [r.claim, muted(_experiment_link(r.experiment, present, controls))],
            r.comparison,
            _n_cell(r),
            F.effect(r.effect, r.ci_low, r.ci_high, r.unit),
            F.p_value(r.p),
            F.magnitude(r.mde, r.unit),
            paper_effect(r),
            [Badge(r.verdict, ev.rules.get(r.verdict))],
            *(_seed_cells(r) if multi else []),
        ]
        for r in ev.rows
    ]
    notes: list[Cell] = [
        lines(
            [Strong("Note:"), f" {r.note}"] if r.note else [],
            [Strong("Paper:"), f" {r.paper_source}"] if r.paper_source else [],
        )
        for r in ev.rows
    ]
    col_cls = ["text", "text", *([""] * 6), *(["seeds", "agree"] if multi else [])]
    return {
        "power": f"{ev.power:.0%}",
        "alpha": f"{ev.alpha:g}",
        "table": table(
            header, rows, caption="Claims of the paper, tested", cls="evidence", col_cls=col_cls, notes=notes
        )
        if rows
        else None,
        "rules": [(Badge(v), F.rule_text(v, rule)) for v, rule in F.ordered_rules(ev.rules)],
        "footer": evidence_footer(ev),
    }


def _seeds(results: Results) -> dict[str, Any]:
    """Headline numbers over training seeds: mean ± sd, then one column per seed."""
    cols = seed_columns(results)
    rows = [
        [x.name, F.mean_sd(x.mean, x.sd, x.unit), *(F.value(x.values.get(s), x.unit) for s in cols)]
        for x in results.seed_numbers
    ]
    caption = "Headline numbers per training seed (accuracy in %, Δ in pp, MAD ×100)"
    return {
        "n": len(results.seeds),
        "seeds": F.seed_list(results.seeds),
        "first": results.seeds[0] if results.seeds else None,
        "table": table(["number", "mean ± sd", *(f"seed {s}" for s in cols)], rows, caption=caption)
        if rows
        else None,
    }


# --- the page ---


def _summary(results: Results) -> dict[str, Any]:
    """The headline findings, which seed the sections show (more than one seed ran) and how to read them."""
    seeds = results.seeds
    shown = {"first": seeds[0], "n": len(seeds), "list": F.seed_list(seeds)} if len(seeds) > 1 else None
    return {"headlines": headlines(results), "seeds": shown, "small_n": F.SMALL_N}


def _when(run: RunInfo) -> str:
    """``started 2024-11-24 16:00 · finished 2024-11-24 19:05 · wall 3h 05m`` (what is known of it)."""
    return " · ".join(
        x
        for x in (
            f"started {run.started:%Y-%m-%d %H:%M}" if run.started else "",
            f"finished {run.finished:%Y-%m-%d %H:%M}" if run.finished else "",
            f"wall {F.duration(run.wall_s)}" if run.wall_s is not None else "",
        )
        if x
    )


def sections(results: Results, figure_files: dict[str, str] | None = None) -> list[Section]:
    """The page's sections in order: the evidence (when recorded), the headline, the four experiments ("not
    run" when absent), then the controls, hygiene, seeds and other experiments when there are any, then sizes,
    compliance, the configuration and provenance."""
    figs = figure_files or {}
    st, cp, cal, bc = (
        results.self_training,
        results.cross_prediction,
        results.calibration,
        results.behaviour_change,
    )
    experiments = {
        "self-training": S.self_training(st, figs.get("self_training")) if st else None,
        "cross-prediction": S.cross_prediction(cp, figs.get("cross_prediction")) if cp else None,
        "calibration": S.calibration(cal, figs.get("calibration")) if cal else None,
        "behaviour-change": S.behaviour_change(bc, figs.get("behaviour_change")) if bc else None,
    }
    out: list[Section] = []
    if results.evidence is not None:
        present = [sid for sid, data in experiments.items() if data]
        titles = {name: s.title for name, s in results.controls.items()}
        ev = _evidence(results.evidence, present, titles)
        out.append(Section("evidence", "Evidence", "evidence.html.j2", ev))
    out.append(Section("summary", "Headline", "summary.html.j2", _summary(results), nav=False))
    for sid, data in experiments.items():
        template = f"{sid.replace('-', '_')}.html.j2" if data else None
        out.append(Section(sid, EXPERIMENTS[sid], template, data))
    if results.controls:
        out.append(Section("controls", "Controls", "controls.html.j2", C.controls_data(results)))
    if hygiene := C.hygiene_items(results):
        out.append(Section("hygiene", "Data hygiene", "hygiene.html.j2", hygiene))
    if len(results.seeds) > 1:
        out.append(Section("seeds", "Seeds", "seeds.html.j2", _seeds(results)))
    if results.other:  # registered experiments beyond the four: their sections as data
        other = [(name, json_text(s)) for name, s in sorted(results.other.items())]
        out.append(Section("other", "Other experiments", "other.html.j2", other))
    run = results.run
    return [
        *out,
        Section("sizes", "Sizes", "kv.html.j2", kv_table(run.sizes), nav=False),
        Section("compliance", "Compliance", "compliance.html.j2", S.compliance(results)),
        Section("configuration", "Configuration", "json.html.j2", json_text(run.config)),
        Section("provenance", "Provenance", "kv.html.j2", kv_table(run.provenance)),
    ]


def render_html(results: Results, figure_files: dict[str, str] | None = None) -> str:
    """The page as a string; `figure_files` maps experiment keys (as in `figures.FILES`) to image names."""
    page = environment().get_template("page.html.j2")
    # The stylesheet is this package's own constant: the one string the page takes unescaped.
    css = Markup(CSS)
    return (
        page.render(
            run=results.run,
            when=_when(results.run),
            schema_version=results.schema_version,
            css=css,
            sections=sections(results, figure_files),
        )
        + "\n"
    )


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
