"""The control battery in the report: the Controls section of the page and the Controls block of the markdown
summary (numbers, intervals, the evidence table's verdicts, notes, details) and the data-hygiene checks."""

from __future__ import annotations

import re

from inward.report import Results, RunInfo, markdown_summary, render_html
from inward.report.results import (
    AccRow,
    ControlPredictor,
    ControlSection,
    Evidence,
    EvidenceRow,
    HygieneCheck,
    PairedTest,
    SeedEffect,
)

RULES = {"supports": "The interval lies above zero.", "underpowered": "The detectable effect is too large."}


def acc(a: float, lo: float, hi: float, *, n: int = 300, clustered: bool = True) -> list[AccRow]:
    return [
        AccRow(
            group="average",
            n=n,
            acc=a,
            ci_low=a - 0.03,
            ci_high=a + 0.03,
            n_clusters=n // 3 if clustered else None,
            cluster_low=lo if clustered else None,
            cluster_high=hi if clustered else None,
            baseline=0.35,
        )
    ]


def paired(a: float, b: float, lo: float, hi: float, p: float) -> list[PairedTest]:
    return [
        PairedTest(
            n=300,
            acc_a=a,
            acc_b=b,
            diff=a - b,
            ci_low=lo + 0.01,
            ci_high=hi - 0.01,
            p_bootstrap=p / 2,
            n_clusters=100,
            cluster_ci_low=lo,
            cluster_ci_high=hi,
            p_cluster=p,
        )
    ]


def sibling() -> ControlSection:
    return ControlSection(
        control="sibling",
        title="Sibling cross-predictor",
        question="Does a model with the target's own pre-training predict the target as well?",
        target="M1 + self",
        target_model="hf:Qwen/Qwen2.5-0.5B+m1-self",
        self_rows=acc(0.481, 0.440, 0.523),
        predictors=[
            ControlPredictor(
                name="sibling",
                predictor="its sibling (M1-sibling)",
                model="hf:Qwen/Qwen2.5-0.5B+m1-sibling",
                rows=acc(0.402, 0.360, 0.445),
                tests=paired(0.481, 0.402, 0.010, 0.148, 0.03),
                details={"training_seed": 1000, "train_examples": 4200},
            ),
            ControlPredictor(
                name="input-only",
                predictor="an input-only classifier",
                rows=acc(0.431, 0.392, 0.471),
                tests=paired(0.481, 0.431, 0.010, 0.090, 0.02),
                note="Fitted on the training prompts' text alone.",
            ),
        ],
        details={
            "checks": ["no held-out prompt in any training set: ok (0 of 77)"],
            "features": "character n-grams",
            "per_task": {"animals_long": 0.5, "wikipedia_long": 0.25},
            "accuracy_by_k": {"M2": {"0": 0.31, "4": 0.38}, "M1": {"4": 0.4}},
            "fell_back_to_mode": [],
        },
        notes=["The sibling sees the same pairs the cross-predictor sees."],
    )


def evidence_row(key: str, effect: float, lo: float, hi: float, verdict: str) -> EvidenceRow:
    return EvidenceRow(
        key=key,
        claim="M1 predicts itself better than X",
        experiment="sibling",
        comparison="…",
        unit="pp",
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p=0.03,
        verdict=verdict,  # type: ignore[arg-type]
    )


def results(*, evidence: bool = True) -> Results:
    ev = Evidence(
        rows=[
            evidence_row("sibling:sibling", 0.079, 0.010, 0.148, "supports"),
            # Its interval excludes 0, yet the evidence table calls it underpowered: the report must say so too.
            evidence_row("sibling:input-only", 0.050, 0.010, 0.090, "underpowered"),
        ],
        rules=RULES,
        seeds=[0],
    )
    return Results(
        run=RunInfo(name="controls", run_id="r1"),
        controls={"sibling": sibling()},
        evidence=ev if evidence else None,
        hygiene=[
            HygieneCheck(check="no held-out prompt in any training set", ok=True, detail="0 of 77 rows"),
            HygieneCheck(
                check="no input string shared between properties", ok=False, detail="a.jsonl: 3 items"
            ),
        ],
    )


def _row(page: str, marker: str) -> str:
    """The table row (<tr>…</tr>) of the controls table holding `marker`."""
    table = re.search(r'<table class="controls">.*?</table>', page, re.S)
    assert table, "no controls table"
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", table.group(0), re.S) if marker in r]
    assert len(rows) == 1, (marker, rows)
    return rows[0]


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, sid
    return m.group(1)


def test_page_shows_each_predictor_beside_self() -> None:
    page = render_html(results())
    body = _section(page, "controls")
    assert "Sibling cross-predictor" in body and "own pre-training predict the target" in body
    assert "M1 + self" in body and "hf:Qwen/Qwen2.5-0.5B+m1-self" in body
    own = _row(page, "self (M1 + self)")
    assert "48.1% [44.0, 52.3]" in own and "35.0%" in own and "300" in own
    sib = _row(page, "its sibling (M1-sibling)")
    assert "40.2% [36.0, 44.5]" in sib and "+7.9 pp [+1.0, +14.8]" in sib and "0.030" in sib
    assert 'class="badge v-supports"' in sib and "hf:Qwen/Qwen2.5-0.5B+m1-sibling" in sib
    io = _row(page, "an input-only classifier")
    assert "43.1% [39.2, 47.1]" in io and "+5.0 pp [+1.0, +9.0]" in io and "0.020" in io
    assert "no language model" in io
    # the evidence table's verdict, even though this interval alone lies above zero
    assert 'class="badge v-underpowered"' in io and "v-supports" not in io
    # the note and the predictor's details in the full-width row below it
    assert "Fitted on the training prompts&#39; text alone." in body
    assert "training_seed: 1000 · train_examples: 4200" in body
    # what survives: read off the evidence rows
    survives = re.search(r"<strong>What survives:</strong>(.*?)</p>", body, re.S)
    assert survives and "beats 1 of 2 claimed predictors" in survives.group(1)
    # the control's notes and details; the checks go to the Data hygiene section
    assert "The sibling sees the same pairs the cross-predictor sees." in body
    assert "features: character n-grams" in body
    assert re.search(r"<caption>per_task</caption>.*animals_long.*0\.5.*wikipedia_long.*0\.25", body, re.S)
    assert "0 of 77)" not in body and 'href="#hygiene"' in body
    # a dict of dicts (a curve per predictor) as rows × columns; an empty list as a dash
    grid = re.search(r"<caption>accuracy_by_k</caption>(.*?)</table>", body, re.S)
    assert grid and "<th></th><th>0</th><th>4</th>" in grid.group(1)
    assert "<td>M2</td><td>0.31</td><td>0.38</td>" in grid.group(1)
    assert "<td>M1</td><td></td><td>0.4</td>" in grid.group(1)
    assert "fell_back_to_mode: —" in body


def test_page_order_links_and_hygiene() -> None:
    page = render_html(results())
    ids = re.findall(r'<section id="([a-z-]+)"', page)
    assert ids.index("behaviour-change") + 1 == ids.index("controls")
    assert ids.index("controls") + 1 == ids.index("hygiene")
    assert '<a href="#controls">Controls</a>' in page
    ev = _section(page, "evidence")
    assert '<a href="#control-sibling">Sibling cross-predictor</a>' in ev
    assert 'id="control-sibling"' in page
    hyg = _section(page, "hygiene")
    assert "<li>no held-out prompt in any training set: ok (0 of 77 rows)</li>" in hyg
    assert (
        '<strong class="failed">✗ no input string shared between properties: FAILED (a.jsonl: 3 items)' in hyg
    )
    # a control's own check line, prefixed with its control (the checks come from two places)
    assert "<li>Sibling cross-predictor: no held-out prompt in any training set: ok (0 of 77)</li>" in hyg


def test_swapped_predictor_rows_are_caught() -> None:
    res = results()
    sec = res.controls["sibling"]
    sib, io = sec.predictors
    sib.rows, io.rows = io.rows, sib.rows  # a runner bug: each predictor carries the other's accuracy
    page = render_html(res)
    assert "40.2% [36.0, 44.5]" not in _row(page, "its sibling (M1-sibling)")
    md = markdown_summary(res)
    # the markdown line reads the paired test (unchanged), the HTML its accuracy rows: both name the predictor
    line = next(x for x in md.splitlines() if "its sibling" in x)
    assert line.startswith("- self 48.1% vs its sibling (M1-sibling) 40.2%: +7.9 pp [+1.0, +14.8]")
    sib.tests, io.tests = io.tests, sib.tests
    line = next(x for x in markdown_summary(res).splitlines() if "its sibling" in x)
    assert "40.2%" not in line and "+7.9 pp" not in line and "vs its sibling (M1-sibling) 43.1%" in line


def test_summary_has_one_line_per_predictor() -> None:
    md = markdown_summary(results())
    assert "### Controls" in md and "**Sibling cross-predictor**, predicting M1 + self:" in md
    assert "- self 48.1% vs its sibling (M1-sibling) 40.2%: +7.9 pp [+1.0, +14.8], p=0.030, ✓ supports" in md
    assert (
        "- self 48.1% vs an input-only classifier 43.1%: +5.0 pp [+1.0, +9.0], p=0.020, "
        "⚠ underpowered — Fitted on the training prompts' text alone." in md
    )
    assert "What survives: self-prediction beats 1 of 2 claimed predictors: its sibling (M1-sibling): " in md
    lines = md.splitlines()
    hyg = lines.index("### Data hygiene")
    assert (
        lines.index(
            "### Controls: what a self-prediction advantage must beat (Δ = self − predictor on "
            "the same prompts, item-clustered 95% CI; verdicts from the evidence table)"
        )
        < hyg
    )
    assert lines[hyg + 2 : hyg + 5] == [
        "- no held-out prompt in any training set: ok (0 of 77 rows)",
        "- ✗ no input string shared between properties: FAILED (a.jsonl: 3 items)",
        "- Sibling cross-predictor: no held-out prompt in any training set: ok (0 of 77)",
    ]
    assert "No experiment results" not in md


def test_without_evidence_no_verdict_is_made_up() -> None:
    res = results(evidence=False)
    md = markdown_summary(res)
    assert "+7.9 pp [+1.0, +14.8], p=0.030, no verdict recorded" in md
    assert "supports" not in md and "underpowered" not in md
    page = render_html(res)
    assert "badge v-" not in _section(page, "controls")
    assert "no verdict recorded (these results have no evidence rows for this control)" in page


def test_reference_predictor_condition_self_and_row_intervals() -> None:
    res = results()
    para = ControlPredictor(
        name="p2",
        predictor="M1 asked in wording p2",
        model="hf:Qwen/Qwen2.5-0.5B+m1-self",
        rows=acc(0.300, 0, 0, n=20, clustered=False),
        self_rows=acc(0.450, 0.400, 0.500),
        tests=paired(0.450, 0.300, 0.05, 0.25, 0.004),
        claim=False,
    )
    res.controls["paraphrase"] = ControlSection(
        control="paraphrase",
        title="Paraphrase robustness",
        question="Does the verdict survive rewording?",
        target="M1 + self",
        target_model="hf:Qwen/Qwen2.5-0.5B+m1-self",
        predictors=[para],
    )
    page = render_html(res)
    block = page[page.index('id="control-paraphrase"') :]
    assert "self under this condition: 45.0% [40.0, 50.0]" in block
    assert "reference (not claimed)" in block
    assert "no predictor of this control is claimed against" in block
    # n < 30 without a clustered interval: the Wilson (here absent → ±SEM) row interval, marked as such
    assert "30.0% [27.0, 33.0] (rows)" in block
    md = markdown_summary(res)
    assert "- self (same condition) 45.0% vs M1 asked in wording p2 30.0%: +15.0 pp [+5.0, +25.0], " in md
    assert "reference (not claimed)" in md


def test_seed_combined_verdict_shows_its_effect() -> None:
    res = results()
    assert res.evidence is not None
    res.evidence.rows[0].seeds = [SeedEffect(seed=s, effect=0.07) for s in (0, 1, 2)]
    res.evidence.rows[0].effect, res.evidence.rows[0].ci_low, res.evidence.rows[0].ci_high = 0.07, 0.02, 0.12
    md = markdown_summary(res)
    assert "p=0.030, ✓ supports (over 3 seeds: +7.0 pp [+2.0, +12.0])" in md
    assert "over 3 seeds: +7.0 pp [+2.0, +12.0]" in _row(render_html(res), "its sibling")


def test_results_without_controls_render_no_controls() -> None:
    res = Results(run=RunInfo(name="plain", run_id="r0"))
    page = render_html(res)
    assert 'id="controls"' not in page and "#controls" not in page and "What survives" not in page
    assert 'id="hygiene"' not in page and "Data hygiene" not in page
    md = markdown_summary(res)
    assert "Controls" not in md and "Data hygiene" not in md
    assert "No experiment results" in md


def test_headline_per_control() -> None:
    from inward.report import headlines

    res = results()
    assert headlines(res) == [
        "Sibling cross-predictor (predicting M1 + self): self-prediction beats 1 of 2 claimed predictors: its "
        "sibling (M1-sibling): ✓ supports (+7.9 pp [+1.0, +14.8]); an input-only classifier: ⚠ underpowered "
        "(+5.0 pp [+1.0, +9.0])."
    ]
    assert "No experiment results in this file." not in render_html(res)
