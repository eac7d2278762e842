"""Render the report in headless Chromium and check the screenshot shows a real page (not blank)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from inward.report import Results

pytest.importorskip("matplotlib", reason="the report's figures need the 'report' extra (matplotlib)")

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(
    browser() is None, reason=f"no headless browser on PATH (looked for {', '.join(BROWSERS)})"
)
def test_report_renders_in_chromium(report: tuple[Results, Path], tmp_path: Path) -> None:
    from matplotlib import image

    index = report[1]
    shot = tmp_path / "shot.png"
    cmd = [
        str(browser()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        index.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), f"no screenshot (rc={done.returncode}): {done.stderr[-2000:]}"
    img = image.imread(shot)[..., :3]
    assert img.shape[:2] == (2400, 1280)
    # Not blank: many pixels differ from the white page, and there is colour from the figures (blue bars).
    assert (img.mean(axis=-1) < 0.9).mean() > 0.05
    blue = (
        (abs(img[..., 0] - 0x00 / 255) < 0.08)
        & (abs(img[..., 1] - 0x72 / 255) < 0.08)
        & (abs(img[..., 2] - 0xB2 / 255) < 0.08)
    )
    assert blue.mean() > 0.002, "the Fig. 4 bars should be visible in the first screen"
