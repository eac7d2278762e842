"""results.json schema: round trip, NaN handling, strictness, atomic save, one-line user errors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from inward.errors import UserError
from inward.report import AccRow, PairedTest, Results, RunInfo, find_row
from inward.report.results import SCHEMA_VERSION


def test_round_trip_is_lossless(results: Results, tmp_path: Path) -> None:
    path = results.save(tmp_path / "sub" / "results.json")
    again = Results.load(path)
    assert again == results
    assert again.self_training is not None
    assert again.self_training.models[0].trained[-1].group == "average"
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION
    assert set(raw) == set(Results.model_fields)  # every field is written, null or empty when not run
    assert {
        "schema_version",
        "run",
        "self_training",
        "cross_prediction",
        "calibration",
        "behaviour_change",
    } <= set(raw)


def test_saved_file_is_strict_json_and_shareable(results: Results, tmp_path: Path) -> None:
    path = results.save(tmp_path / "results.json")
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


def test_nan_and_numpy_scalars_become_plain_values() -> None:
    row = AccRow(
        group="average",
        n=np.int64(10),
        k=np.int64(3),
        acc=np.float64(0.3),
        ci_low=float("nan"),
        ci_high=np.float64("nan"),
    )
    assert row.n == 10 and type(row.n) is int
    assert row.acc == pytest.approx(0.3) and type(row.acc) is float
    assert row.ci_low is None and row.ci_high is None
    t = PairedTest(n=5, acc_a=0.6, acc_b=0.4, diff=0.2, p_mcnemar=math.nan)
    assert t.p_mcnemar is None and t.group == "average"
    assert json.loads(t.model_dump_json())["p_mcnemar"] is None


def test_any_subset_of_experiments_is_valid(tmp_path: Path) -> None:
    only_run = Results(run=RunInfo(name="x", run_id="r1"))
    assert Results.load(only_run.save(tmp_path / "r.json")) == only_run


def test_unknown_keys_are_rejected_with_a_clear_line(results: Results, tmp_path: Path) -> None:
    raw = json.loads(results.model_dump_json())
    raw["self_training"]["models"][0]["trained"][0]["accuracy"] = 0.5  # a runner typo
    path = tmp_path / "results.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(UserError, match=r"not a valid results file .*self_training\.models\.0\.trained\.0"):
        Results.load(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "no results file"),
        ("{not json", "cannot read"),
        (json.dumps({"schema_version": SCHEMA_VERSION + 1, "run": {}}), "newer than this inward"),
        (json.dumps({"run": {"name": "x"}}), r"run\.run_id"),
    ],
)
def test_load_errors_are_user_errors(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=match) as info:
        Results.load(path)
    assert "\n" not in str(info.value)


def test_failed_save_keeps_the_old_file(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "results.json"
    path.write_text("old")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        results.save(path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_find_row(results: Results) -> None:
    assert results.self_training is not None
    m = results.self_training.models[0]
    avg = find_row(m.trained)
    assert avg is not None and avg.n == sum(r.n for r in m.trained if r.group != "average")
    assert find_row(m.tests, "is_even") is not None
    assert find_row(m.trained, "no_such_group") is None
    assert find_row(None) is None
