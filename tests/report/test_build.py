"""Converters from `inward.metrics` tables to results models, on small hand-checkable tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from inward import metrics as M
from inward.report import build as B

OBJ_COLS = ["task", "item_id", "property", "value", "compliance"]
HYPOTHETICAL_COLS = ["task", "item_id", "property", "answer", "compliance"]


def scored() -> pd.DataFrame:
    """first_word: 6 rows, 4 correct, values cat×4 dog×2; is_even: 4 rows, 1 correct, 1 non-compliant."""
    obj = [
        ("animals", f"a{i}", "first_word", v, None)
        for i, v in enumerate(["cat", "cat", "cat", "cat", "dog", "dog"])
    ]
    obj += [("numbers", f"n{i}", "is_even", v, None) for i, v in enumerate(["even", "odd", "odd", "odd"])]
    meta = [
        ("animals", f"a{i}", "first_word", a, None)
        for i, a in enumerate(["cat", "cat", "cat", "dog", "dog", "x"])
    ]
    meta += [
        ("numbers", "n0", "is_even", "even", None),
        ("numbers", "n1", "is_even", "even", None),
        ("numbers", "n2", "is_even", "even", None),
        ("numbers", "n3", "is_even", None, "not_a_label"),
    ]
    return M.join_object_hypothetical(
        pd.DataFrame(obj, columns=OBJ_COLS), pd.DataFrame(meta, columns=HYPOTHETICAL_COLS)
    )


def test_acc_rows_match_the_metric_tables() -> None:
    df = scored()
    rows = B.acc_rows(M.accuracy(df), baseline=M.mode_baseline(df), compliance=M.compliance_rates(df))
    assert [r.group for r in rows] == ["first_word", "is_even", "average"]
    by = {r.group: r for r in rows}
    assert (by["first_word"].n, by["first_word"].k, by["first_word"].acc) == (6, 4, pytest.approx(4 / 6))
    assert (by["is_even"].n, by["is_even"].k) == (4, 1)
    assert (by["average"].n, by["average"].k, by["average"].acc) == (10, 5, pytest.approx(0.5))
    # mode baseline: first_word mode "cat" 4/6, is_even mode "odd" 3/4, pooled 7/10
    assert by["first_word"].baseline == pytest.approx(4 / 6)
    assert by["is_even"].baseline == pytest.approx(3 / 4)
    assert by["average"].baseline == pytest.approx(0.7)
    assert by["is_even"].compliance == pytest.approx(3 / 4)
    assert by["average"].compliance == pytest.approx(9 / 10)
    assert by["average"].ci_low is not None and by["average"].ci_low < 0.5 < (by["average"].ci_high or 0)
    assert by["average"].boot_low is not None


def test_paired_rows_from_a_table_and_from_one_test() -> None:
    a = scored()
    b = a.assign(correct=True)  # B is right everywhere: A only loses
    table = B.paired_rows(M.paired_tests(a, b))
    assert [t.group for t in table] == ["first_word", "is_even", "average"]
    avg = table[-1]
    assert (avg.n, avg.acc_a, avg.acc_b, avg.a_only, avg.b_only) == (10, 0.5, 1.0, 0, 5)
    assert avg.diff == pytest.approx(-0.5)
    assert avg.p_mcnemar == pytest.approx(2 / 2**5)
    (single,) = B.paired_rows(M.paired_test(a, b))
    assert single.group == "average" and single.model_dump(exclude={"group"}) == avg.model_dump(
        exclude={"group"}
    )


def behaviour_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """first_word: 4 prompts compared, 3 changed (p2 unchanged); is_even: 2 compared, 1 changed."""
    rows = [  # item, property, old, new, hypothetical answer of the shifted model
        ("p1", "first_word", "cat", "dog", "dog"),
        ("p2", "first_word", "cat", "cat", "cat"),
        ("p3", "first_word", "owl", "bee", "owl"),
        ("p4", "first_word", "cat", "emu", "emu"),
        ("p5", "first_word", "cat", None, "emu"),  # no new value: not compared
        ("q1", "is_even", "even", "odd", "odd"),
        ("q2", "is_even", "odd", "odd", "odd"),
    ]
    task = {"first_word": "animals", "is_even": "numbers"}
    old = pd.DataFrame([(task[p], i, p, o, None) for i, p, o, _, _ in rows], columns=OBJ_COLS)
    new = pd.DataFrame([(task[p], i, p, n, None) for i, p, _, n, _ in rows], columns=OBJ_COLS)
    meta = pd.DataFrame([(task[p], i, p, a, None) for i, p, _, _, a in rows], columns=HYPOTHETICAL_COLS)
    return old, new, meta


def test_changed_fractions_by_hand() -> None:
    old, new, _ = behaviour_tables()
    ch = M.changed_fractions(old, new).set_index("group")
    assert ch.loc["first_word", ["n_compared", "n_changed"]].tolist() == [4, 3]
    assert ch.loc["is_even", ["n_compared", "n_changed"]].tolist() == [2, 1]
    assert ch.loc["average", "changed_fraction"] == pytest.approx(4 / 6)
    assert int(ch.loc["average", "n_changed"]) == len(M.shifted_prompts(old, new))


def test_changed_fractions_count_only_the_requested_properties() -> None:
    old, new, _ = behaviour_tables()
    ch = M.changed_fractions(old, new, properties=["first_word"]).set_index("group")
    assert "is_even" not in ch.index
    assert ch.loc["average", ["n_compared", "n_changed"]].tolist() == [4, 3]


def test_change_rows_carry_summary_and_fractions() -> None:
    old, new, meta = behaviour_tables()
    res = M.behaviour_change(old, new, meta)
    rows = B.change_rows(res.summary, changed=M.changed_fractions(old, new))
    by = {r.group: r for r in rows}
    assert list(by) == ["first_word", "is_even", "average"]
    avg = by["average"]
    # shifted: p1 (new), p3 (old), p4 (new), q1 (new) → new 3/4, old 1/4
    assert (avg.n, avg.acc_new, avg.acc_old) == (4, 0.75, 0.25)
    assert avg.diff == pytest.approx(0.5)
    assert avg.changed_fraction == pytest.approx(4 / 6) and avg.n_compared == 6
    assert avg.baseline_old is not None and avg.baseline_new is not None
    adjusted = B.change_rows(M.behaviour_change(old, new, meta, adjust_entropy=True).summary)
    assert all(r.p_mcnemar is None for r in adjusted)  # unpaired after matching: NaN in, null out


def test_calibration_condition_matches_the_metrics() -> None:
    obj = {("t", str(i), "p"): {"a": 0.1 * (i % 10), "b": 1 - 0.1 * (i % 10)} for i in range(40)}
    meta = {k: {"a": 0.5, "b": 0.5} for k in obj}
    points = M.calibration_points(obj, meta)
    cond = B.calibration_condition("untrained", points, object_model="m", hypothetical_model="m")
    assert cond.mad == pytest.approx(M.calibration_mad(points))
    assert set(cond.mad_by_rank) == {"top1", "top2", "top3"}
    assert cond.mad_by_rank["top1"] == pytest.approx(M.calibration_mad(points, rank=1))
    assert math.isnan(M.calibration_mad(points, rank=3))  # two values per prompt: no third-ranked points…
    assert cond.mad_by_rank["top3"] is None  # …so NaN, stored as null
    assert sum(p.n for p in cond.curve) == len(points)
    assert [p.bin for p in cond.curve] == list(range(len(cond.curve)))
