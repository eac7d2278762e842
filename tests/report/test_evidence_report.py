"""Results schema 3 in the report: the evidence table (top of the page and of the summary), both
cross-prediction directions with capability, the self- vs cross-trained MAD test, and the seeds table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inward.report import Results, RunInfo, markdown_summary, render_html
from inward.report import _format as F
from inward.report.results import (
    CalibrationPanel,
    CrossPredictor,
    CrossTarget,
    Evidence,
    EvidenceRow,
    MadTest,
    ModelCapability,
    SeedEffect,
    SeedNumber,
    SeedRun,
)

RULES = {
    "supports": "The 95% interval lies above zero (every seed alone agrees).",
    "contradicts": "The 95% interval lies below zero.",
    "inconclusive": "The interval covers zero and excludes no effect the size of the paper's.",
    "underpowered": "Underpowered: the detectable effect at 80% power is larger than the paper's effect.",
}
SHOWN = {v: F.rule_text(v, r) for v, r in RULES.items()}  # "Underpowered: " beside its badge is dropped
SEEDS = [0, 1, 2]


def _seeds(effects: tuple[float, ...], verdicts: tuple[str, ...]) -> list[SeedEffect]:
    return [
        SeedEffect(seed=s, effect=e, verdict=v)  # type: ignore[arg-type]
        for s, e, v in zip(SEEDS, effects, verdicts, strict=True)
    ]


def evidence() -> Evidence:
    rows = [
        EvidenceRow(
            key="self_training:m1",
            claim="Self-prediction training improves self-prediction",
            experiment="self_training",
            comparison="M1 self-trained vs untrained, predicting itself on held-out tasks",
            unit="pp",
            n=1800,
            n_clusters=600,
            effect=0.26,
            ci_low=0.19,
            ci_high=0.33,
            p=0.0004,
            se=0.035,
            mde=0.061,
            paper_effect=0.17,
            paper_source="Fig. 4 (GPT-4o)",
            verdict="supports",
            seeds=_seeds((0.25, 0.27, 0.26), ("supports",) * 3),
            seeds_agree=True,
            spread=0.01,
        ),
        EvidenceRow(
            key="self_vs_cross:m1",
            claim="M1 predicts itself better than M2 predicts M1",
            experiment="cross_prediction",
            comparison="M1 self-trained vs M2 cross-trained, predicting M1",
            unit="pp",
            n=1500,
            n_clusters=500,
            effect=-0.05,
            ci_low=-0.09,
            ci_high=-0.01,
            p=0.012,
            mde=0.04,
            paper_effect=0.171,
            paper_source="Fig. 5",
            verdict="contradicts",
            seeds=_seeds((-0.06, -0.05, -0.04), ("contradicts", "contradicts", "inconclusive")),
            seeds_agree=False,
            spread=0.01,
            note="The predictor is the less capable model in this direction.",
        ),
        EvidenceRow(
            key="calibration:animals_long:second_character",
            claim="Self-trained M1 is better calibrated than cross-trained M2",
            experiment="calibration",
            comparison="MAD of cross-trained minus self-trained, same prompts",
            unit="mad",
            n=480,
            n_clusters=480,
            effect=1.5,
            ci_low=-2.0,
            ci_high=5.0,
            p=0.41,
            mde=4.0,
            paper_effect=4.1,
            verdict="inconclusive",
            seeds=_seeds((1.0, 2.0, 1.5), ("inconclusive",) * 3),
            seeds_agree=True,
        ),
        EvidenceRow(
            key="behaviour_change",
            claim="After a behaviour shift, the model predicts its new behaviour",
            experiment="behaviour_change",
            comparison="Shifted model: new vs old behaviour, shifted prompts",
            unit="pp",
            n=845,
            effect=0.04,
            ci_low=-0.10,
            ci_high=0.18,
            p=0.57,
            mde=0.21,
            paper_effect=0.35,
            paper_source="Fig. 8",
            verdict="underpowered",
            seeds=_seeds((0.02, 0.05, 0.05), ("underpowered",) * 3),
            seeds_agree=True,
            note="Only 845 shifted prompts.",
        ),
    ]
    return Evidence(rows=rows, rules=RULES, alpha=0.05, power=0.8, seeds=SEEDS)


SEED_NUMBERS = [
    SeedNumber(
        name="M1 self-trained, self-prediction (average)",
        experiment="self_training",
        unit="acc",
        mean=0.585,
        sd=0.012,
        values={"0": 0.58, "1": 0.597, "2": 0.578},
    ),
    SeedNumber(
        name="M1 self − M2 cross (average)",
        experiment="cross_prediction",
        unit="pp",
        mean=0.115,
        sd=0.02,
        values={"0": 0.115, "1": 0.095, "2": 0.135},
    ),
    SeedNumber(
        name="MAD self-trained (animals_long · second character)",
        experiment="calibration",
        unit="mad",
        mean=5.43,
        sd=0.61,
        values={"0": 5.2, "1": 6.1, "2": None},
    ),
]

QWEN_PARAMS, SMOL_PARAMS = 494_032_768, 134_515_008
MEASURE = "parameter count, then MC accuracy"


def with_evidence(results: Results) -> Results:
    """The example results as schema 3 writes them: evidence, 3 seeds, both directions, a MAD test."""
    cp, cal = results.cross_prediction, results.calibration
    assert cp is not None and cal is not None
    qwen = cp.targets[0]
    qwen.role = "m1"
    smol_pred = qwen.cross[0]
    smol_pred.more_capable = False
    assert results.self_training is not None
    smol_self = results.self_training.models[1].trained
    cp.targets.append(
        CrossTarget(
            model=results.self_training.models[1].trained_model or "smol",
            label="SmolLM2-135M",
            role="m2",
            self_rows=smol_self,
            cross=[
                CrossPredictor(
                    model="local/qwen2.5-coder-0.5b+adapter=runs/x/cross-m2",
                    label="Qwen2.5-Coder-0.5B",
                    more_capable=True,
                    rows=qwen.self_rows,
                    tests=[
                        t.model_copy(update={"diff": -0.031, "ci_low": -0.044, "ci_high": -0.018})
                        for t in smol_pred.tests
                    ],
                )
            ],
        )
    )
    cp.capability = [
        ModelCapability(
            model="local/qwen2.5-coder-0.5b",
            label="Qwen2.5-Coder-0.5B",
            parameters=QWEN_PARAMS,
            mc_accuracy=0.412,
            mc_n=500,
            mc_tasks=["mmlu_non_cot", "arc_challenge_non_cot"],
        ),
        ModelCapability(
            model="local/smollm2-135m",
            label="SmolLM2-135M",
            parameters=SMOL_PARAMS,
            mc_accuracy=0.298,
            mc_n=500,
            mc_tasks=["mmlu_non_cot", "arc_challenge_non_cot"],
        ),
    ]
    cp.capability_measure = MEASURE
    cal.panels[0].self_vs_cross = MadTest(
        a="self-trained",
        b="cross-trained",
        mad_a=5.2,
        mad_b=9.4,
        diff=4.2,
        ci_low=1.0,
        ci_high=7.4,
        p=0.012,
        se=1.6,
        n_prompts=480,
    )
    results.evidence = evidence()
    results.seeds = list(SEEDS)
    results.seed_numbers = [x.model_copy() for x in SEED_NUMBERS]
    results.seed_runs = [
        SeedRun(seed=0, self_training=results.self_training, cross_prediction=cp),
        SeedRun(seed=1, calibration=cal),
        SeedRun(seed=2),
    ]
    return results


@pytest.fixture
def full(results: Results) -> Results:
    return with_evidence(results)


def _cells(page: str, table_class: str) -> list[list[str]]:
    """The text of each body row's cells of the first table with `table_class` (tags stripped)."""
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert table, table_class
    body = re.search(r"<tbody>(.*)</tbody>", table.group(1), re.S)
    assert body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [[_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def _text(cell: str) -> str:
    """A cell's text: tags dropped (as spaces), whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


# --- formats ---


def test_formats() -> None:
    assert F.effect(0.26, 0.19, 0.33, "pp") == "+26.0 pp [+19.0, +33.0]"
    assert F.effect(-0.05, -0.09, -0.01, "pp") == "-5.0 pp [-9.0, -1.0]"
    assert F.effect(4.2, 1.0, 7.4, "mad") == "+4.2 MAD [+1.0, +7.4]"
    assert F.effect(None, 0.1, 0.2, "mad") == "n/a" and F.effect(0.1, None, 0.2) == "+10.0 pp"
    assert F.magnitude(0.061, "pp") == "6.1 pp" and F.magnitude(4.0, "mad") == "4.0 MAD"
    assert F.magnitude(None, "pp") == "n/a"
    assert [F.verdict_label(v) for v in F.VERDICTS] == [
        "✓ supports",
        "✗ contradicts",
        "? inconclusive",
        "⚠ underpowered",
    ]
    assert F.parameters(QWEN_PARAMS) == "494M" and F.parameters(SMOL_PARAMS) == "135M"
    assert F.parameters(1_543_714_304) == "1.5B" and F.parameters(70_553_706_496) == "71B"
    assert F.parameters(9_990_000) == "10M" and F.parameters(None) == "n/a"
    assert F.mean_sd(0.585, 0.012, "acc") == "58.5% ± 1.2"
    assert F.mean_sd(0.115, 0.02, "pp") == "+11.5 ± 2.0 pp"
    assert F.mean_sd(5.43, 0.61, "mad") == "5.4 ± 0.6"
    assert F.mean_sd(5.43, None, "mad") == "5.4"
    assert F.n_prompts(1800, 600) == "600 prompts (1,800 rows)"
    assert F.n_prompts(480, 480) == "480 prompts" and F.n_prompts(845, None) == "845"
    assert F.seeds_agree(False, ["contradicts", "contradicts", "inconclusive"]) == (
        "no (contradicts ×2, inconclusive ×1)"
    )
    assert F.seeds_agree(True, []) == "yes" and F.seeds_agree(None, []) == "n/a"
    assert F.who("SmolLM2-135M", "m2") == "M2 (SmolLM2-135M)" and F.who("x", None) == "x"
    assert F.who("M2 (beta) + m2-self", "m2") == "M2 (beta) + m2-self"  # the label already names the role
    assert (
        F.rule_text("supports", "Supports: the interval lies above zero.") == "The interval lies above zero."
    )
    assert F.rule_text("supports", "Interval above zero.") == "Interval above zero."


# --- HTML ---


def test_evidence_table_in_html(full: Results) -> None:
    page = render_html(full)
    cells = _cells(page, "evidence")
    # A row's note and the paper's source are a full-width row beneath it (the third row has neither).
    assert [len(r) for r in cells] == [10, 1, 10, 1, 10, 10, 1]
    assert cells[1] == ["Paper: Fig. 4 (GPT-4o)"]
    assert cells[3] == ["Note: The predictor is the less capable model in this direction. Paper: Fig. 5"]
    assert cells[6] == ["Note: Only 845 shifted prompts. Paper: Fig. 8"]
    assert page.count('<tr class="has-note">') == 3 and '<td colspan="10">' in page
    rows = [r for r in cells if len(r) > 1]
    first = rows[0]
    assert first[0].startswith("Self-prediction training improves self-prediction")
    assert "Self-prediction training (Fig. 4)" in first[0]  # the experiment, linked
    assert first[1:8] == [
        "M1 self-trained vs untrained, predicting itself on held-out tasks",
        "600 prompts 1,800 rows",
        "+26.0 pp [+19.0, +33.0]",
        "&lt;0.001",
        "6.1 pp",
        "+17.0 pp",
        "✓ supports",
    ]
    assert first[8] == "seed 0: +25.0 seed 1: +27.0 seed 2: +26.0"  # every seed's verdict is the row's
    assert first[9] == "yes sd 1.0 pp"
    second = rows[1]
    assert second[3:8] == ["-5.0 pp [-9.0, -1.0]", "0.012", "4.0 pp", "+17.1 pp", "✗ contradicts"]
    assert second[8] == "seed 0: -6.0 seed 1: -5.0 seed 2: -4.0 (? inconclusive)"  # the odd one out
    assert second[9] == "no (contradicts ×2, inconclusive ×1) sd 1.0 pp"
    third = rows[2]
    assert third[2:8] == [
        "480 prompts",
        "+1.5 MAD [-2.0, +5.0]",
        "0.410",
        "4.0 MAD",
        "+4.1 MAD",
        "? inconclusive",
    ]
    fourth = rows[3]
    assert fourth[2:8] == [
        "845",
        "+4.0 pp [-10.0, +18.0]",
        "0.570",
        "21.0 pp",
        "+35.0 pp",
        "⚠ underpowered",
    ]
    # Badges: a class per verdict, the mark hidden from screen readers, the word always there, the rule as title.
    for verdict, rule in RULES.items():
        assert f'<span class="badge v-{verdict}" title="{rule.replace(chr(39), "&#39;")}">' in page
        shown = SHOWN[verdict].replace(chr(39), "&#39;")
        assert f"<dd>{shown}</dd>" in page  # the rules, as a definition list
    assert '<span aria-hidden="true">✓ </span>supports</span>' in page
    assert '<dl class="rules">' in page
    assert "α = 0.05, two-sided; detectable effect at 80% power; seeds 0, 1, 2." in page
    assert 'href="#self-training"' in page and 'href="#evidence"' in page


def test_evidence_comes_first(full: Results) -> None:
    page = render_html(full)
    order = [page.index(f'<section id="{sid}"') for sid in ("evidence", "summary", "self-training")]
    assert order == sorted(order)
    assert page.index('<table class="evidence">') < page.index('<section id="self-training"')
    assert page.index('<section id="behaviour-change"') < page.index('<section id="seeds"')
    assert page.index('<section id="seeds"') < page.index('<section id="compliance"')
    assert page.index('<a href="#evidence">') < page.index('<a href="#self-training">')


def test_cross_prediction_both_directions(full: Results) -> None:
    page = render_html(full)
    assert "<h3>M2 (SmolLM2-135M) predicts M1 (Qwen2.5-Coder-0.5B)" in page
    assert "<h3>M1 (Qwen2.5-Coder-0.5B) predicts M2 (SmolLM2-135M)" in page
    assert "(predictor more capable)" in page and "(predictor less capable)" in page
    assert (
        "More capable predictor: M1 (Qwen2.5-Coder-0.5B) predicts M2 (SmolLM2-135M), by parameter count, "
        "then MC accuracy." in page
    )
    section = page[page.index('<section id="cross-prediction"') :]
    assert "Capability of each model (untrained); measure: parameter count, then MC accuracy" in section
    cap = re.search(r"<caption>Capability.*?<tbody>(.*?)</tbody>", section, re.S)
    assert cap
    rows = [
        [_text(c) for c in re.findall(r"<td>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", cap.group(1))
    ]
    assert rows == [
        [
            "Qwen2.5-Coder-0.5B local/qwen2.5-coder-0.5b",
            "494M",
            "41.2% (n=500)",
            "mmlu_non_cot, arc_challenge_non_cot",
        ],
        ["SmolLM2-135M local/smollm2-135m", "135M", "29.8% (n=500)", "mmlu_non_cot, arc_challenge_non_cot"],
    ]
    assert section.count("Paired tests on the same prompts") == 2  # one per direction


def test_calibration_mad_test_in_html(full: Results) -> None:
    page = render_html(full)
    section = page[page.index('<section id="calibration"') : page.index('<section id="behaviour-change"')]
    assert "Self-trained vs cross-trained calibration on the same prompts" in section
    row = (
        "<td>animals_long · second character</td><td>self-trained</td><td>cross-trained</td><td>5.2</td>"
        "<td>9.4</td><td>+4.2 MAD [+1.0, +7.4]</td><td>0.012</td><td>480</td>"
    )
    assert row in section
    assert "mmlu_non_cot · among a or c</td><td>self-trained</td><td>cross" not in section  # no test there


def test_seeds_section_in_html(full: Results) -> None:
    page = render_html(full)
    section = page[page.index('<section id="seeds"') : page.index('<section id="sizes"')]
    assert "<th>seed 0</th><th>seed 1</th><th>seed 2</th>" in section
    assert (
        "<td>M1 self-trained, self-prediction (average)</td><td>58.5% ± 1.2</td><td>58.0%</td><td>59.7%</td>"
        "<td>57.8%</td>" in section
    )
    assert (
        "<td>M1 self − M2 cross (average)</td><td>+11.5 ± 2.0 pp</td><td>+11.5 pp</td><td>+9.5 pp</td>"
        in section
    )
    assert "<td>5.4 ± 0.6</td><td>5.2</td><td>6.1</td><td>n/a</td>" in section
    assert "The experiment sections show training seed 0 of 3 (0, 1, 2)" in page


def test_one_seed_has_no_seed_columns(full: Results) -> None:
    assert full.evidence is not None
    full.seeds = [0]
    full.evidence.seeds = [0]
    for r in full.evidence.rows:
        r.seeds = r.seeds[:1]
    page = render_html(full)
    assert 'id="seeds"' not in page and "per seed" not in page and "seeds agree" not in page
    assert "The experiment sections show" not in page
    assert "detectable effect at 80% power; seed 0." in page
    md = markdown_summary(full)
    assert "### Seeds" not in md and "seeds agree" not in md


def test_everything_is_escaped(full: Results) -> None:
    assert full.evidence is not None
    evil = "<script>x</script>"
    row = full.evidence.rows[0]
    row.claim = "self < cross & <b>bold</b>"
    row.comparison = row.note = row.paper_source = evil
    full.evidence.rules["supports"] = f'rule "quoted" {evil}'
    full.seed_numbers[0].name = evil
    assert full.cross_prediction is not None
    full.cross_prediction.capability[0].label = evil
    full.cross_prediction.capability_measure = evil
    full.calibration.panels[0].self_vs_cross.a = evil  # type: ignore[union-attr]
    page = render_html(full)
    assert "<script" not in page and "<b>bold" not in page
    assert "self &lt; cross &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert 'title="rule &#34;quoted&#34; &lt;script&gt;x&lt;/script&gt;"' in page
    assert page.count("&lt;script&gt;x&lt;/script&gt;") >= 8
    md = markdown_summary(full)
    assert "| self < cross & <b>bold</b> |" in md  # markdown shows text as is; only | and newlines break it


# --- markdown ---


def test_markdown_evidence_first(full: Results) -> None:
    md = markdown_summary(full)
    lines = md.splitlines()
    start = lines.index(
        "### Evidence: one row per claim (effect positive = the paper's claim; pp = percentage points, MAD = "
        "calibration points)"
    )
    assert start < lines.index("### Self-prediction training (Fig. 4)")
    assert (
        lines[start + 2]
        == "| claim | effect [95% CI] | p | detectable (80% power) | paper | verdict | seeds agree |"
    )
    assert lines[start + 4 : start + 8] == [
        "| Self-prediction training improves self-prediction | +26.0 pp [+19.0, +33.0] | <0.001 | 6.1 pp | +17.0 pp "
        "| ✓ supports | yes |",
        "| M1 predicts itself better than M2 predicts M1 | -5.0 pp [-9.0, -1.0] | 0.012 | 4.0 pp | +17.1 pp "
        "| ✗ contradicts | no (contradicts ×2, inconclusive ×1) |",
        "| Self-trained M1 is better calibrated than cross-trained M2 | +1.5 MAD [-2.0, +5.0] | 0.410 | 4.0 MAD "
        "| +4.1 MAD | ? inconclusive | yes |",
        "| After a behaviour shift, the model predicts its new behaviour | +4.0 pp [-10.0, +18.0] | 0.570 "
        "| 21.0 pp | +35.0 pp | ⚠ underpowered | yes |",
    ]
    assert (
        "- After a behaviour shift, the model predicts its new behaviour: Only 845 shifted prompts." in lines
    )
    assert "Verdicts (α = 0.05, two-sided; detectable effect at 80% power; seeds 0, 1, 2):" in lines
    for verdict, rule in SHOWN.items():
        assert f"- {F.verdict_label(verdict)}: {rule}" in lines
    assert "3 training seeds (0, 1, 2): the experiment tables show seed 0" in md


def test_markdown_cross_both_directions_and_capability(full: Results) -> None:
    md = markdown_summary(full)
    assert "| M1 (Qwen2.5-Coder-0.5B) | self | " in md
    assert "| M1 (Qwen2.5-Coder-0.5B) | M2 (SmolLM2-135M) (less capable) | " in md
    assert "| M2 (SmolLM2-135M) | M1 (Qwen2.5-Coder-0.5B) (more capable) | " in md
    assert (
        "Capability by parameter count, then MC accuracy: Qwen2.5-Coder-0.5B 494M, MC 41.2% (n=500); "
        "SmolLM2-135M 135M, MC 29.8% (n=500). More capable predictor: M1 (Qwen2.5-Coder-0.5B) predicts "
        "M2 (SmolLM2-135M). The paper's claim" in md
    )
    assert "+4.2 MAD [+1.0, +7.4], p=0.012" in md  # the calibration MAD test column
    assert "| Δ MAD cross-trained − self-trained [95% CI], p |" in md


def test_markdown_seeds_table(full: Results) -> None:
    md = markdown_summary(full)
    assert "### Seeds: 3 training seeds (0, 1, 2)" in md
    assert "| number | mean ± sd | seed 0 | seed 1 | seed 2 |" in md
    assert "| M1 self-trained, self-prediction (average) | 58.5% ± 1.2 | 58.0% | 59.7% | 57.8% |" in md
    assert "| MAD self-trained (animals_long · second character) | 5.4 ± 0.6 | 5.2 | 6.1 | n/a |" in md
    assert md.index("### Behaviour change") < md.index("### Seeds")


def test_headlines_name_directions(full: Results) -> None:
    from inward.report import headlines

    lines = headlines(full)
    assert any(
        h.startswith("Predicting M1 (Qwen2.5-Coder-0.5B): self ") and "M2 (SmolLM2-135M) (less capable)" in h
        for h in lines
    )
    assert any(h.startswith("Predicting M2 (SmolLM2-135M): self ") for h in lines)
    assert any("cross-trained − self-trained +4.2 MAD [+1.0, +7.4], p=0.012" in h for h in lines)


# --- older content and the file ---


def test_results_without_evidence_or_seeds_still_render(results: Results, tmp_path: Path) -> None:
    """A schema-2 file (no evidence, seeds, capability or roles) loads and renders as before."""
    raw = json.loads(results.model_dump_json())
    for key in ("evidence", "seeds", "seed_runs", "seed_numbers"):
        raw.pop(key)
    raw["schema_version"] = 2
    for target in raw["cross_prediction"]["targets"]:
        target.pop("role")
        for c in target["cross"]:
            c.pop("more_capable")
    raw["cross_prediction"].pop("capability")
    raw["cross_prediction"].pop("capability_measure")
    for panel in raw["calibration"]["panels"]:
        panel.pop("self_vs_cross")
    path = tmp_path / "results.json"
    path.write_text(json.dumps(raw))
    old = Results.load(path)
    assert old.evidence is None and old.seeds == [0]
    page = render_html(old)
    assert 'id="evidence"' not in page and 'id="seeds"' not in page
    assert "<h3>SmolLM2-135M predicts Qwen2.5-Coder-0.5B</h3>" in page
    assert "Which predictor is more capable was not recorded." in page
    assert "Capability of each model" not in page and "Self-trained vs cross-trained calibration" not in page
    assert page.index('<section id="summary"') < page.index('<section id="self-training"')
    md = markdown_summary(old)
    assert "### Evidence" not in md and "### Seeds" not in md and md.count("### ") == 4
    assert "| Qwen2.5-Coder-0.5B | SmolLM2-135M | " in md
    empty = render_html(Results(run=RunInfo(name="e", run_id="r"), evidence=Evidence()))
    assert "No claims were tested." in empty and empty.count("Not run") == 4


def test_round_trip_with_evidence_and_seeds(full: Results, tmp_path: Path) -> None:
    path = full.save(tmp_path / "results.json")
    again = Results.load(path)
    assert again == full
    assert again.evidence is not None and [r.verdict for r in again.evidence.rows] == list(F.VERDICTS)
    assert again.evidence.rows[1].seeds[2].verdict == "inconclusive"
    assert again.seed_numbers[2].values == {"0": 5.2, "1": 6.1, "2": None}
    assert [s.seed for s in again.seed_runs] == SEEDS
    assert again.cross_prediction is not None and [t.role for t in again.cross_prediction.targets] == [
        "m1",
        "m2",
    ]
    assert again.cross_prediction.capability[0].parameters == QWEN_PARAMS
    panel: CalibrationPanel = again.calibration.panels[0]  # type: ignore[union-attr]
    assert panel.self_vs_cross is not None and panel.self_vs_cross.diff == 4.2
    assert render_html(again) == render_html(full)


def test_report_with_evidence_is_written(full: Results, tmp_path: Path) -> None:
    pytest.importorskip(
        "matplotlib", reason="write_report draws figures with the 'report' extra (matplotlib)"
    )
    from inward.report import write_report

    index = write_report(full, tmp_path)
    page = index.read_text()
    assert '<table class="evidence">' in page and "fig5_cross_prediction.png" in page
    assert Results.load(tmp_path / "results.json") == full
