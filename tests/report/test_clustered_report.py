"""Item-clustered intervals in results.json and the report: converters carry them, verdicts use them, both
intervals are labelled, and results written before they existed still load and say which p they show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from inward import metrics as M
from inward.report import Results, headlines, markdown_summary, render_html
from inward.report import _format as F
from inward.report import build as B
from inward.report import figures as FIG
from inward.report.results import find_row

CLUSTER_KEYS = {
    "n_clusters",
    "cluster_low",
    "cluster_high",
    "cluster_ci_low",
    "cluster_ci_high",
    "p_cluster",
    "old_cluster_low",
    "old_cluster_high",
    "new_cluster_low",
    "new_cluster_high",
    "diff_cluster_low",
    "diff_cluster_high",
}


def correlated(right: list[bool], props: str = "xyz") -> pd.DataFrame:
    """One prompt per entry of `right`, every property scored the same way (perfectly correlated)."""
    rows = [("t", str(i), p, p, r) for i, r in enumerate(right) for p in props]
    return pd.DataFrame(rows, columns=["task", "item_id", "property", "group", "correct"])


def test_converters_carry_the_clustered_numbers() -> None:
    a, b = correlated([i < 7 for i in range(10)]), correlated([i < 4 for i in range(10)])
    rows = B.acc_rows(M.accuracy(a))
    avg = find_row(rows)
    assert avg is not None and (avg.n, avg.n_clusters) == (30, 10)
    assert avg.cluster_low is not None and avg.cluster_high is not None and avg.ci_low is not None
    assert avg.cluster_high - avg.cluster_low > (avg.ci_high or 0) - avg.ci_low  # correlated rows: wider
    table = M.paired_tests(a, b)
    tests = B.paired_rows(table)
    t = find_row(tests)
    assert t is not None and t.n_clusters == 10
    assert t.p_cluster == pytest.approx(float(table.iloc[-1]["p_cluster"]))
    assert t.p_bootstrap is not None and t.p_cluster is not None and t.p_bootstrap < t.p_cluster
    (single,) = B.paired_rows(M.paired_test(a, b))
    assert single.model_dump(exclude={"group"}) == t.model_dump(exclude={"group"})


def test_change_rows_carry_the_clustered_numbers() -> None:
    cols = ["task", "item_id", "property", "value", "compliance"]
    hypothetical_cols = ["task", "item_id", "property", "answer", "compliance"]
    # 12 prompts × 2 properties, every value flipped a <-> b (so entropy matching keeps every row); the
    # shifted model's answers follow its new behaviour on prompts 0-7 and its old one on 8-11.
    before = {i: "ab"[i % 2] for i in range(12)}
    after = {i: "ba"[i % 2] for i in range(12)}
    old = pd.DataFrame([("t", str(i), p, before[i], None) for i in range(12) for p in "xy"], columns=cols)
    new = pd.DataFrame([("t", str(i), p, after[i], None) for i in range(12) for p in "xy"], columns=cols)
    answers = [(i, p, after[i] if i < 8 else before[i]) for i in range(12) for p in "xy"]
    meta = pd.DataFrame([("t", str(i), p, a, None) for i, p, a in answers], columns=hypothetical_cols)
    for adjust in (False, True):
        summary = M.behaviour_change(old, new, meta, adjust_entropy=adjust).summary
        avg = find_row(B.change_rows(summary))
        assert avg is not None and avg.n == 24
        assert avg.n_clusters == (24 if adjust else 12)  # unpaired: both conditions' prompts
        assert avg.p_cluster == pytest.approx(float(summary.iloc[-1]["p_cluster"]))
        assert avg.diff_cluster_low is not None and avg.diff_cluster_high is not None
        assert avg.diff_cluster_low <= (avg.diff or 0) <= avg.diff_cluster_high
        assert avg.new_cluster_low is not None and avg.old_cluster_high is not None


def _with_clustered(results: Results) -> Results:
    """The example results with clustered numbers on the first model's tests, chosen unlike the row ones."""
    st = results.self_training
    assert st is not None
    m = st.models[0]
    m.tests = [
        t.model_copy(
            update={
                "n_clusters": t.n // 3,
                "p_cluster": 0.2,
                "cluster_ci_low": -0.05,
                "cluster_ci_high": 0.37,
            }
        )
        for t in m.tests
    ]
    m.trained = [r.model_copy(update={"cluster_low": 0.111, "cluster_high": 0.999}) for r in m.trained]
    return results


def test_verdicts_use_the_clustered_p_value(results: Results) -> None:
    res = _with_clustered(results)
    t = find_row(res.self_training.models[0].tests)  # type: ignore[union-attr]
    assert t is not None and t.p_bootstrap == 0.0  # the row-level p says <0.001
    line = headlines(res)[0]
    assert "item-clustered bootstrap p=0.200" in line and "p<0.001" not in line
    md = markdown_summary(res)
    assert "+16.0 pp [-5.0, +37.0]" in md  # Δ with the clustered interval
    assert "0.200 / <0.001 / <0.001" in md  # clustered / rows / McNemar
    assert "[11.1, 99.9]" in md and "±1.96·SEM (paper, rows)" in md and "item-clustered bootstrap" in md
    assert "p=0.200" in FIG._diff_label(t)
    page = render_html(res)
    assert "±1.96·SEM (paper, rows)" in page and "item-clustered bootstrap" in page
    assert "[11.1, 99.9]" in page and "0.200 / &lt;0.001 / &lt;0.001" in page


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in CLUSTER_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def test_results_written_before_clustering_still_load_and_say_so(results: Results, tmp_path: Path) -> None:
    raw = _strip(json.loads(_with_clustered(results).model_dump_json()))
    path = tmp_path / "results.json"
    path.write_text(json.dumps(raw))
    old = Results.load(path)
    t = find_row(old.self_training.models[0].tests)  # type: ignore[union-attr]
    assert t is not None and t.p_cluster is None and t.n_clusters is None
    line = headlines(old)[0]
    assert "row bootstrap p<0.001" in line  # falls back to the row-level p, labelled as such
    md = markdown_summary(old)
    assert "n/a / <0.001 / <0.001" in md
    assert f"{F.pp(t.diff, t.ci_low, t.ci_high)} (rows)" in md  # and to the row-level Δ interval, marked
