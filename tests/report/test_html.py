"""The HTML page: files beside it, numbers in it, escaping, self-containment, "not run" sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inward.report import Results, RunInfo, render_html, write_report
from inward.report import figures as FIG

pytest.importorskip("matplotlib", reason="write_report draws figures with the 'report' extra (matplotlib)")


def test_files_are_written_side_by_side(report: tuple[Results, Path]) -> None:
    results, index = report
    assert index.name == "index.html"
    for name in FIG.FILES.values():
        assert (index.parent / name).stat().st_size > 10_000
    assert Results.load(index.parent / "results.json") == results


def test_page_shows_the_numbers(report: tuple[Results, Path]) -> None:
    results, index = report
    page = index.read_text()
    st, bc = results.self_training, results.behaviour_change
    assert st is not None and bc is not None
    avg = st.models[0].trained[-1]
    assert (
        avg.group == "average" and avg.acc is not None and avg.ci_low is not None and avg.ci_high is not None
    )
    assert f"{100 * avg.acc:.1f}% [{100 * avg.ci_low:.1f}, {100 * avg.ci_high:.1f}]" in page
    assert f"{100 * (avg.baseline or 0):.1f}%" in page
    assert f"{avg.n:,}" in page
    assert "+16.0 pp" in page and "&lt;0.001" in page
    assert f"{100 * (bc.rows[-1].acc_new or 0):.1f}%" in page
    cal = results.calibration
    assert cal is not None
    assert f"{cal.panels[0].conditions[0].mad:.1f}" in page
    assert "99.5%" in page  # a compliance rate
    assert "collateral check" in page and "b (48%) → a (100%)" in page


def test_every_label_is_escaped(report: tuple[Results, Path]) -> None:
    page = report[1].read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") >= 5  # title, heading, note, cross label (tables), config


def test_page_is_self_contained(report: tuple[Results, Path]) -> None:
    page = report[1].read_text()
    assert "<style>" in page and '<link rel="stylesheet"' not in page
    refs = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert refs, "the page should reference its figures"
    for ref in refs:
        assert "://" not in ref and not ref.startswith("/"), ref
        assert (report[1].parent / ref).exists(), ref


def test_sections_and_not_run(tmp_path: Path, results: Results) -> None:
    write_report(Results(run=results.run, calibration=results.calibration), tmp_path)
    partial = Results(run=results.run, behaviour_change=results.behaviour_change)
    page = write_report(partial, tmp_path).read_text()
    for sid in ("self-training", "cross-prediction", "calibration"):
        assert re.search(rf'<section id="{sid}" class="not-run">.*?Not run', page, re.S), sid
    assert '<section id="behaviour-change">' in page
    assert 'id="configuration"' in page and 'id="provenance"' in page and "&#34;lora_r&#34;: 16" in page
    # stale figures of experiments that are no longer in the results are removed
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [FIG.FILES["behaviour_change"]]


def test_empty_results_render_without_figures() -> None:
    page = render_html(Results(run=RunInfo(name="empty", run_id="r0")))
    assert page.count("Not run") == 4
    assert "No experiment results in this file." in page and "<img" not in page


def test_missing_matplotlib_is_a_user_error(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from inward.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(MissingExtraError, match=r"pip install 'inward\[report\]'"):
        write_report(results, tmp_path)
