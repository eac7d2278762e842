"""Calibration points and binned MAD (SPEC §11)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest

from inward.metrics import (
    calibration_curve,
    calibration_mad,
    calibration_mad_by_rank,
    calibration_points,
    empirical_distribution,
)


def points(x: list[float], y: list[float], rank: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": range(len(x)),
            "value": "v",
            "rank": rank or [1] * len(x),
            "object_prob": x,
            "hypothetical_prob": y,
        }
    )


def test_points_take_the_top_k_object_values() -> None:
    obj = {"p1": {"a": 0.5, "o": 0.3, "e": 0.15, "i": 0.05}, "p2": {"x": 1.0}, "only_obj": {"a": 1.0}}
    meta = {"p1": {"A": 0.9, "z": 0.1}, "p2": {"y": 1.0}}
    pts = calibration_points(obj, meta)
    assert pts[["key", "value", "rank", "object_prob", "hypothetical_prob"]].values.tolist() == [
        ["p1", "a", 1, 0.5, 0.9],  # meta values compared after lower/strip
        ["p1", "o", 2, 0.3, 0.0],
        ["p1", "e", 3, 0.15, 0.0],
        ["p2", "x", 1, 1.0, 0.0],
    ]


def test_normalise_and_distribution_objects() -> None:
    @dataclass
    class Dist:
        probs: dict[str, float]

    obj = {"p": Dist({"b": 0.2, "a": 0.2})}  # 0.6 of the mass resolved to no value
    meta = {"p": {"a": 0.3, "b": 0.1}}
    pts = calibration_points(obj, meta, normalise=True)
    # ties in object probability rank by value; both sides renormalised over the values they cover
    assert pts[["value", "rank", "object_prob", "hypothetical_prob"]].values.tolist() == [
        ["a", 1, 0.5, pytest.approx(0.75)],
        ["b", 2, 0.5, pytest.approx(0.25)],
    ]


def test_empirical_distribution_drops_missing_and_pools_case() -> None:
    assert empirical_distribution(["Cat", "cat ", None, "dog"]) == {"cat": 2 / 3, "dog": 1 / 3}
    assert empirical_distribution([None]) == {}


def test_mad_is_zero_when_perfectly_calibrated() -> None:
    x = [0.1, 0.2, 0.3, 0.5, 0.7, 0.9]
    assert calibration_mad(points(x, x), bins=3) == pytest.approx(0.0)
    # per point wrong, but bin means agree (pairs swapped inside each bin) → still calibrated
    assert calibration_mad(points(x, [0.2, 0.1, 0.5, 0.3, 0.9, 0.7]), bins=3) == pytest.approx(0.0)
    obj = {f"p{i}": {"a": p, "b": 1 - p} for i, p in enumerate([0.6, 0.7, 0.8, 0.9])}
    assert calibration_mad(calibration_points(obj, obj)) == pytest.approx(0.0)


def test_mad_by_hand_on_a_miscalibrated_table() -> None:
    pts = points([0.2, 0.4, 0.6, 0.8], [0.1, 0.1, 0.9, 0.9])
    curve = calibration_curve(pts, bins=2)
    # bin 1: x = 0.3, y = 0.1; bin 2: x = 0.7, y = 0.9 → MAD = (0.2 + 0.2) / 2 × 100 = 20
    assert curve[["bin", "x", "y", "n"]].values.tolist() == [
        [0, pytest.approx(0.3), pytest.approx(0.1), 2],
        [1, pytest.approx(0.7), pytest.approx(0.9), 2],
    ]
    assert calibration_mad(pts, bins=2) == pytest.approx(20.0)
    # overconfident hypotheticals: everyone says 1.0 → |0.5 − 1| with one bin of constant x
    assert calibration_mad(points([0.5, 0.5], [1.0, 1.0])) == pytest.approx(50.0)


def test_duplicate_edges_are_dropped_and_ranks_binned_separately() -> None:
    pts = points([1.0, 1.0, 1.0, 0.5, 0.3, 0.2], [0.8, 0.8, 0.8, 0.5, 0.0, 0.0], rank=[1, 1, 1, 1, 2, 3])
    curve = calibration_curve(pts, bins=10)
    assert curve["n"].sum() == 6
    assert curve["bin"].tolist() == list(range(len(curve)))
    by_rank = calibration_mad_by_rank(pts, bins=2)
    # top1: x = [1, 1, 1, 0.5]; qcut(2) edges [0.5, 1, 1] collapse to one bin (mean x 3.5/4, mean y 2.9/4)
    assert by_rank["top1"] == pytest.approx(abs(3.5 / 4 - 2.9 / 4) * 100)
    assert by_rank["top2"] == pytest.approx(30.0)
    assert by_rank["top3"] == pytest.approx(20.0)
    assert math.isnan(calibration_mad(pts.iloc[:0]))
