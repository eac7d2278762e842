"""The HTML page read back as a browser reads it (html5lib): each table's numbers are the numbers of the Results it
was rendered from, every attribute is well formed, and text from the results appears escaped exactly once.

The expected numbers are read off the Results fields here (×100, one decimal, by hand), never through the
report's own formatting helpers; each check returns its mismatches, so a swapped or dropped number shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import html5lib
import pytest
from test_controls_report import results as controls_results
from test_evidence_report import with_evidence

from inward.report import Results, RunInfo, render_html
from inward.report.results import AccRow, Evidence, EvidenceRow, PairedTest

NUM = r"[+-]?\d+(?:,\d{3})*(?:\.\d+)?"
TOKEN = re.compile(r"[a-z][a-z0-9-]*")
ATTRIBUTE = re.compile(r"[a-z][a-z-]*")


def parse(page: str) -> Element:
    return html5lib.parse(page, namespaceHTMLElements=False)


def text(el: Element) -> str:
    """An element's text as shown: the pieces of its children joined by spaces, whitespace collapsed."""
    return " ".join(" ".join(el.itertext()).split())


def section(doc: Element, sid: str) -> Element:
    found = [s for s in doc.iter("section") if s.get("id") == sid]
    assert len(found) == 1, sid
    return found[0]


def table(root: Element, caption: str | None = None, cls: str | None = None) -> Element:
    """The one table under `root` whose caption starts with `caption` or whose class list holds `cls`."""
    found = [
        t
        for t in root.iter("table")
        if (caption is None or text(_one(t, "caption", optional=True)).startswith(caption))
        and (cls is None or cls in (t.get("class") or "").split())
    ]
    assert len(found) == 1, (caption, cls, len(found))
    return found[0]


def _one(el: Element, tag: str, *, optional: bool = False) -> Element:
    """The first `tag` under `el` (an empty element when `optional` and there is none)."""
    found = el.find(tag)
    if found is None:
        assert optional, tag
        return Element(tag)
    return found


def body(t: Element) -> list[list[str]]:
    """The text of each cell of each row of the table's body."""
    return [[text(td) for td in tr.iter("td")] for tr in _one(t, "tbody").iter("tr")]


def header(t: Element) -> list[str]:
    """The column headers (the last header row; a spans row sits above it)."""
    rows = list(_one(t, "thead").iter("tr"))
    return [text(th) for th in rows[-1].iter("th")]


def numbers(cell: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(NUM, cell)]


def close(shown: list[float], expected: list[float | None], digits: int = 1) -> bool:
    """Whether a cell shows exactly the expected numbers, each rounded to `digits` decimals."""
    want = [x for x in expected if x is not None]
    half = 0.5 * 10**-digits + 1e-9
    return len(shown) == len(want) and all(abs(a - b) <= half for a, b in zip(shown, want, strict=True))


def pct(*xs: float | None) -> list[float | None]:
    return [None if x is None else 100 * x for x in xs]


def p_matches(cell: str, p: float | None) -> bool:
    if p is None:
        return cell == "n/a"
    if p < 0.001:
        return cell == "<0.001"
    return close(numbers(cell), [p], 3)


def group_of(label: str) -> str:
    return "average" if label == "Average" else label.replace(" ", "_")


def by_group(rows: list[AccRow] | list[PairedTest]) -> dict[str, AccRow | PairedTest]:
    return {r.group: r for r in rows}


# --- the checks: each returns what differs between a parsed table and the results ---


def evidence_mismatches(doc: Element, ev: Evidence) -> list[str]:
    t = table(section(doc, "evidence"), cls="evidence")
    cols = header(t)
    rows = [r for r in body(t) if len(r) == len(cols)]  # the full-width note rows have one cell
    out = [f"{len(rows)} claim rows, {len(ev.rows)} in results"] if len(rows) != len(ev.rows) else []
    for r, cells in zip(ev.rows, rows, strict=False):
        cell = dict(zip(cols, cells, strict=True))
        scale = 100 if r.unit == "pp" else 1
        unit = "pp" if r.unit == "pp" else "MAD"
        effect = [None if x is None else scale * x for x in (r.effect, r.ci_low, r.ci_high)]
        if not cell["claim"].startswith(r.claim) or cell["comparison"] != r.comparison:
            out.append(f"{r.key}: claim/comparison {cells[:2]}")
        if not (close(numbers(cell["effect [95% CI]"]), effect) and f" {unit}" in cell["effect [95% CI]"]):
            out.append(f"{r.key}: effect {cell['effect [95% CI]']!r}, results {effect}")
        if not p_matches(cell["p"], r.p):
            out.append(f"{r.key}: p {cell['p']!r}, results {r.p}")
        if r.mde is not None and not close(numbers(cell[cols[5]]), [scale * r.mde]):
            out.append(f"{r.key}: detectable {cell[cols[5]]!r}, results {r.mde}")
        if r.paper_effect is not None and not close(numbers(cell["paper"]), [scale * r.paper_effect]):
            out.append(f"{r.key}: paper {cell['paper']!r}, results {r.paper_effect}")
        if cell["verdict"].split()[-1] != r.verdict:
            out.append(f"{r.key}: verdict {cell['verdict']!r}, results {r.verdict}")
        if r.n_clusters is not None and numbers(cell["n"])[:1] != [r.n_clusters]:
            out.append(f"{r.key}: n {cell['n']!r}, results {r.n_clusters} prompts")
    return out


def self_training_mismatches(doc: Element, results: Results) -> list[str]:
    st = results.self_training
    assert st is not None
    tables = [t for t in section(doc, "self-training").iter("table")]
    out = [f"{len(tables)} tables, {len(st.models)} models"] if len(tables) != len(st.models) else []
    for m, t in zip(st.models, tables, strict=False):
        u, tr, tests = by_group(m.untrained), by_group(m.trained), by_group(m.tests)
        shown = {group_of(cells[0]): cells for cells in body(t)}
        if set(shown) != set(u) | set(tr):
            out.append(f"{m.label}: groups {sorted(shown)}")
        for g, cells in shown.items():
            for side, rows, at in (("untrained", u, 2), ("trained", tr, 6)):
                r = rows.get(g)
                assert r is None or isinstance(r, AccRow)
                want = [] if r is None else pct(r.acc, r.ci_low, r.ci_high)
                if r is not None and not close(numbers(cells[at]), want):
                    out.append(f"{m.label} {g} {side}: accuracy {cells[at]!r}, results {want}")
                if r is not None and not close(numbers(cells[at + 2]), pct(r.baseline)):
                    out.append(f"{m.label} {g} {side}: baseline {cells[at + 2]!r}, results {r.baseline}")
                if r is not None and not close(numbers(cells[at + 3]), pct(r.compliance)):
                    out.append(f"{m.label} {g} {side}: compliance {cells[at + 3]!r}, results {r.compliance}")
            test = tests.get(g)
            assert test is None or isinstance(test, PairedTest)
            if test is not None and not close(numbers(cells[10]), pct(test.diff, test.ci_low, test.ci_high)):
                out.append(f"{m.label} {g}: Δ {cells[10]!r}, results {test.diff}")
            n = sorted({r.n for r in (u.get(g), tr.get(g)) if r is not None})
            if numbers(cells[1]) != n:
                out.append(f"{m.label} {g}: n {cells[1]!r}, results {n}")
    return out


def controls_mismatches(doc: Element, results: Results) -> list[str]:
    out = []
    for name, s in results.controls.items():
        block = section(doc, "controls")
        t = table(block, cls="controls")
        rows = [r for r in body(t) if len(r) > 1]
        names = ["self", *(p.name for p in s.predictors)]
        if len(rows) != len(names):
            out.append(f"{name}: {len(rows)} rows for {names}")
        own = s.self_rows[-1]
        if rows and not close(numbers(rows[0][3]), pct(own.acc, own.cluster_low, own.cluster_high)):
            out.append(f"{name}: self accuracy {rows[0][3]!r}")
        verdicts = {r.key: r.verdict for r in results.evidence.rows} if results.evidence else {}
        for p, cells in zip(s.predictors, rows[1:], strict=False):
            row, test = p.rows[-1], p.tests[-1]
            if not close(numbers(cells[3]), pct(row.acc, row.cluster_low, row.cluster_high)):
                out.append(f"{name}/{p.name}: accuracy {cells[3]!r}")
            if numbers(cells[2]) != [row.n]:
                out.append(f"{name}/{p.name}: n {cells[2]!r}")
            if not close(numbers(cells[4]), pct(row.baseline)):
                out.append(f"{name}/{p.name}: baseline {cells[4]!r}")
            if not close(numbers(cells[5]), pct(test.diff, test.cluster_ci_low, test.cluster_ci_high)):
                out.append(f"{name}/{p.name}: Δ {cells[5]!r}")
            if not p_matches(cells[6], test.p_cluster):
                out.append(f"{name}/{p.name}: p {cells[6]!r}")
            verdict = verdicts.get(f"{name}:{p.name}")
            if verdict is not None and cells[7].split()[1:2] != [verdict]:
                out.append(f"{name}/{p.name}: verdict {cells[7]!r}, evidence {verdict}")
    return out


def calibration_mismatches(doc: Element, results: Results) -> list[str]:
    cal = results.calibration
    assert cal is not None
    t = table(section(doc, "calibration"), caption="MAD ×100")
    cols = header(t)
    rows = body(t)
    want = [(p, c) for p in cal.panels for c in p.conditions]
    out = [f"{len(rows)} rows, {len(want)} conditions"] if len(rows) != len(want) else []
    for (p, c), cells in zip(want, rows, strict=False):
        cell = dict(zip(cols, cells, strict=True))
        if (
            cell["task · property"] != f"{p.task} · {p.property.replace('_', ' ')}"
            or cell["condition"] != c.label
        ):
            out.append(f"row {cells[:2]} for {p.task} {c.label}")
        if not close(numbers(cell["MAD"]), [c.mad]):
            out.append(f"{p.task} {c.label}: MAD {cell['MAD']!r}, results {c.mad}")
        for rank, mad in c.mad_by_rank.items():
            if not close(numbers(cell[f"MAD {rank}"]), [mad]):
                out.append(f"{p.task} {c.label}: MAD {rank} {cell[f'MAD {rank}']!r}, results {mad}")
    return out


def compliance_mismatches(doc: Element, results: Results) -> list[str]:
    st = results.self_training
    assert st is not None
    t = table(section(doc, "compliance"), caption="Share of hypothetical answers")
    cols = header(t)
    out = []
    for cells in body(t):
        g = group_of(cells[0])
        for m in st.models:
            for side, rows in (("untrained", m.untrained), ("self-trained", m.trained)):
                r = by_group(rows)[g]
                assert isinstance(r, AccRow)
                shown = cells[cols.index(f"{m.label} {side}")]
                if not close(numbers(shown), pct(r.compliance)):
                    out.append(f"{m.label} {side} {g}: compliance {shown!r}, results {r.compliance}")
    return out


# --- numbers ---


def test_evidence_table_is_the_results(results: Results) -> None:
    full = with_evidence(results)
    doc = parse(render_html(full))
    assert full.evidence is not None and evidence_mismatches(doc, full.evidence) == []
    # by hand, the first row: +26.0 pp [+19.0, +33.0], p < 0.001, 6.1 pp detectable, paper +17.0 pp
    first = body(table(doc, cls="evidence"))[0]
    assert first[2:8] == [
        "600 prompts 1,800 rows",
        "+26.0 pp [+19.0, +33.0]",
        "<0.001",
        "6.1 pp",
        "+17.0 pp",
        "✓ supports",
    ]


def test_accuracy_tables_are_the_results(results: Results) -> None:
    doc = parse(render_html(results))
    assert self_training_mismatches(doc, results) == []
    assert calibration_mismatches(doc, results) == []
    assert compliance_mismatches(doc, results) == []
    # by hand: Qwen untrained first_word is round(0.415·900) = 374 of 900 → 41.6%
    qwen = body(next(section(doc, "self-training").iter("table")))
    assert qwen[0][:3] == ["first word", "900", "41.6% [38.3, 44.8]"]
    assert qwen[-1][0] == "Average"


def test_controls_table_is_the_results() -> None:
    res = controls_results()
    doc = parse(render_html(res))
    assert controls_mismatches(doc, res) == []
    rows = [r for r in body(table(doc, cls="controls")) if len(r) > 1]
    assert rows[1][3:8] == ["40.2% [36.0, 44.5]", "35.0%", "+7.9 pp [+1.0, +14.8]", "0.030", "✓ supports"]


# --- not vacuous: a changed number changes the parsed table, and the checks say where ---


def test_a_swapped_evidence_number_is_caught(results: Results) -> None:
    full = with_evidence(results)
    assert full.evidence is not None
    page = render_html(full)
    swapped = full.model_copy(deep=True)
    assert swapped.evidence is not None
    a, b = swapped.evidence.rows[0], swapped.evidence.rows[1]
    a.effect, b.effect = b.effect, a.effect
    changed = parse(render_html(swapped))
    assert body(table(changed, cls="evidence")) != body(table(parse(page), cls="evidence"))
    assert [m.split(": ")[0] for m in evidence_mismatches(changed, full.evidence)] == [a.key, b.key]


def test_a_dropped_accuracy_row_is_caught(results: Results) -> None:
    dropped = results.model_copy(deep=True)
    assert dropped.self_training is not None
    del dropped.self_training.models[0].trained[2]  # second_character
    doc = parse(render_html(dropped))
    found = self_training_mismatches(doc, results)
    assert found and all("second_character trained" in m for m in found)
    changed = results.model_copy(deep=True)
    assert changed.calibration is not None
    changed.calibration.panels[1].conditions[0].mad += 0.2
    assert calibration_mismatches(parse(render_html(changed)), results) == [
        f"mmlu_non_cot self-trained: MAD '{changed.calibration.panels[1].conditions[0].mad:.1f}', results "
        f"{results.calibration.panels[1].conditions[0].mad}"  # type: ignore[union-attr]
    ]


def test_a_changed_control_number_is_caught() -> None:
    res = controls_results()
    other = res.model_copy(deep=True)
    other.controls["sibling"].predictors[0].tests[0].p_cluster = 0.3
    assert controls_mismatches(parse(render_html(other)), res) == ["sibling/sibling: p '0.300'"]


# --- attributes ---


def pages(results: Results) -> Iterator[tuple[str, str]]:
    yield "example", render_html(results)
    yield "evidence", render_html(with_evidence(results.model_copy(deep=True)))
    yield "controls", render_html(controls_results())
    yield "empty", render_html(Results(run=RunInfo(name="empty", run_id="r0")))


@pytest.mark.parametrize("which", ["example", "evidence", "controls", "empty"])
def test_attributes_are_well_formed(results: Results, which: str) -> None:
    """Every attribute name is a plain name and every class a clean token list; an average row is marked."""
    name, page = next(x for x in pages(results) if x[0] == which)
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    doc = parser.parse(page)
    assert [e[1] for e in parser.errors] == [], name  # html5lib's parse errors: none at all
    for el in doc.iter():
        for attr, value in el.attrib.items():
            assert ATTRIBUTE.fullmatch(attr), (name, el.tag, attr, value)
        if "class" in el.attrib:
            tokens = el.attrib["class"].split(" ")
            assert tokens and all(TOKEN.fullmatch(t) for t in tokens), (name, el.tag, el.attrib["class"])
    for t in doc.iter("table"):
        rows = list(_one(t, "tbody").iter("tr"))
        for tr in rows:
            first = tr.find("td")
            is_average = first is not None and text(first) == "Average"
            assert is_average == ("avg" in (tr.get("class") or "").split()), (name, text(tr))


def test_tables_keep_their_classes(results: Results) -> None:
    doc = parse(render_html(with_evidence(results)))
    assert table(section(doc, "sizes")).get("class") == "kv"
    assert table(section(doc, "provenance")).get("class") == "kv"
    assert table(section(doc, "evidence")).get("class") == "evidence"
    untagged = [
        t for t in doc.iter("table") if "class" in t.attrib and t.get("class") not in ("kv", "evidence")
    ]
    assert untagged == []
    notes = [tr for tr in doc.iter("tr") if tr.get("class") == "note"]
    assert len(notes) == 3 and all(
        len(tr.findall("td")) == 1 and tr.find("td").get("colspan") == "10" for tr in notes
    )  # type: ignore[union-attr]


# --- escaping ---

HOSTILE = "<em>A</em> & \"B\" 'C' &amp;"


def test_hostile_text_shows_once_as_text(results: Results) -> None:
    full = with_evidence(results)
    assert full.self_training is not None and full.calibration is not None and full.evidence is not None
    full.run.name = HOSTILE
    full.self_training.models[0].label = HOSTILE
    full.self_training.tasks = [HOSTILE]
    full.calibration.panels[0].task = HOSTILE
    full.evidence.rows[0].claim = HOSTILE
    full.evidence.rules["supports"] = HOSTILE
    full.run.provenance["who"] = HOSTILE
    full.run.notes = [HOSTILE]
    page = render_html(full)
    doc = parse(page)
    assert not list(doc.iter("em")), "a label became markup"
    assert "&amp;lt;" not in page and "&amp;amp;amp;" not in page  # nothing escaped twice
    assert text(_one(doc, "head/title")) == f"inward · {HOSTILE}"
    assert text(_one(doc, "body/main/header/h1")) == HOSTILE
    st = section(doc, "self-training")
    assert next(text(h) for h in st.iter("h3")) == HOSTILE
    assert f"Held-out tasks: {HOSTILE}." in [text(p) for p in st.iter("p")]
    cal = body(table(section(doc, "calibration"), caption="MAD ×100"))
    assert cal[0][0] == f"{HOSTILE} · second character"
    ev = body(table(doc, cls="evidence"))
    assert ev[0][0].startswith(HOSTILE)
    badge = next(s for s in section(doc, "evidence").iter("span") if "v-supports" in (s.get("class") or ""))
    assert badge.get("title") == HOSTILE
    prov = dict(r for r in (tuple(c) for c in body(table(section(doc, "provenance")))) if len(r) == 2)
    assert prov["who"] == HOSTILE
    compliance = header(table(section(doc, "compliance"), caption="Share of hypothetical answers"))
    assert f"{HOSTILE} untrained" in compliance


def test_hostile_control_text_shows_once() -> None:
    res = controls_results()
    s = res.controls["sibling"]
    s.title = s.question = s.target = HOSTILE
    s.predictors[0].predictor = HOSTILE + " sibling"
    s.predictors[1].note = HOSTILE
    s.details["per_task"] = {HOSTILE: 0.5}
    page = render_html(res)
    doc = parse(page)
    assert not list(doc.iter("em")) and "&amp;lt;" not in page
    block = section(doc, "controls")
    assert [text(h) for h in block.iter("h3")] == [HOSTILE]
    rows = body(table(block, cls="controls"))
    assert rows[0][0] == f"self ({HOSTILE})"
    assert rows[1][0].startswith(f"{HOSTILE} sibling")
    assert rows[4] == [f"Note: {HOSTILE}"]
    assert body(table(block, caption="per_task"))[0] == [HOSTILE, "0.5"]
    nav = [a.get("href") for a in _one(doc, "body/main/nav").iter("a")]
    assert (
        "#control-sibling" in [a.get("href") for a in section(doc, "evidence").iter("a")]
        and "#controls" in nav
    )


def test_evidence_rows_without_claims_render() -> None:
    ev = Evidence(
        rows=[
            EvidenceRow(
                key="k",
                claim="c",
                experiment="self_training",
                comparison="x",
                unit="pp",
                effect=None,
                verdict="inconclusive",
            )
        ]
    )
    doc = parse(render_html(Results(run=RunInfo(name="e", run_id="r"), evidence=ev)))
    cells = body(table(doc, cls="evidence"))[0]
    assert cells[3:5] == ["n/a", "n/a"] and cells[-1] == "? inconclusive"


def test_json_and_stylesheet_are_escaped_as_they_should_be(results: Results) -> None:
    """The configuration's JSON is text (escaped once); the stylesheet, the page's own, is not escaped at all."""
    results.run.config["prompt"] = HOSTILE
    doc = parse(render_html(results))
    pre = _one(section(doc, "configuration"), "pre")
    assert json.loads(text_exact(pre))["prompt"] == HOSTILE
    style = text_exact(_one(doc, "head/style"))
    assert '"Segoe UI"' in style and "&#34;" not in style and ".badge.v-supports" in style


def text_exact(el: Element) -> str:
    return "".join(el.itertext())


def test_templates_refuse_missing_data() -> None:
    from jinja2 import UndefinedError

    from inward.report.html import environment

    with pytest.raises(UndefinedError):
        environment().get_template("evidence.html.j2").render(d={"power": "80%"})
