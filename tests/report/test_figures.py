"""Figures: each present experiment gets a real PNG; odd inputs (missing numbers, "$" labels) still draw."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="figures need the 'report' extra (matplotlib)")

import matplotlib.image as mpimg
import numpy as np

from inward.report import Results, RunInfo
from inward.report import figures as FIG


def assert_real_png(path: Path, min_width: int = 600) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    assert img.shape[1] >= min_width
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05, f"{path.name} is (nearly) one colour"
    # Palette colours must be there: the plots have bars/lines, not just axes and text.
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    assert (np.abs(rgb - blue).sum(axis=-1) < 0.1).mean() > 0.001, f"{path.name} has no blue series"


def test_all_four_figures(results: Results, tmp_path: Path) -> None:
    written = FIG.write_figures(results, tmp_path)
    assert set(written) == set(FIG.FILES)
    for key, path in written.items():
        assert path == tmp_path / FIG.FILES[key]
        assert_real_png(path)


def test_only_present_experiments_are_drawn(results: Results, tmp_path: Path) -> None:
    partial = Results(run=results.run, calibration=results.calibration)
    assert list(FIG.write_figures(partial, tmp_path)) == ["calibration"]
    assert FIG.write_figures(Results(run=RunInfo(name="x", run_id="y")), tmp_path / "none") == {}


def test_missing_numbers_and_dollar_labels_still_draw(results: Results, tmp_path: Path) -> None:
    assert results.self_training is not None
    model = results.self_training.models[0]
    model.label = "cost $5 model_$x$"  # "$…$" would be parsed as mathtext
    model.trained[0] = model.trained[0].model_copy(
        update={"acc": None, "ci_low": None, "ci_high": None, "baseline": None}
    )
    model.tests = []
    assert_real_png(FIG.self_training_figure(results.self_training, tmp_path / "f.png"))


def test_one_calibration_panel_and_no_entropy_control(results: Results, tmp_path: Path) -> None:
    assert results.calibration is not None and results.behaviour_change is not None
    results.calibration.panels = results.calibration.panels[:1]
    results.behaviour_change.entropy_matched = None
    assert_real_png(FIG.calibration_figure(results.calibration, tmp_path / "c.png"), min_width=300)
    assert_real_png(FIG.behaviour_change_figure(results.behaviour_change, tmp_path / "b.png"))
