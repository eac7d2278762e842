"""The paper's released rows name properties and stances our registry understands (skipped without data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inward import properties

_DEFAULT = Path(__file__).parents[2] / ".." / "shared" / "paper-data"
PAPER_DATA = Path(os.environ.get("INWARD_PAPER_DATA", _DEFAULT))
RELEASE = PAPER_DATA / "release"
FILES = sorted(RELEASE.glob("*/*.jsonl")) if RELEASE.is_dir() else []

pytestmark = [
    pytest.mark.paperdata,
    pytest.mark.skipif(not FILES, reason=f"paper data not found at {PAPER_DATA}"),
]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_release_properties_and_stances_resolve(path: Path) -> None:
    # split("\n"), not splitlines(): the wealth prompts contain U+2029, which splitlines() treats as a break.
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    assert rows
    names = {row["behavioral_property"] for row in rows}
    assert len(names) == 1
    prop = properties.get(names.pop())
    assert path.stem.endswith(prop.name)
    if prop.name != "ethical_stance":
        return
    dataset = rows[0]["original_dataset"]
    stance = properties.normalize_stance(dataset)
    assert prop.question_for(dataset) == prop.question_for(stance)
    targets = {row["option_matching_ethical_stance"] for row in rows}
    assert targets <= {"A", "B"}
    # Choosing the behaviour-matching letter is "true", the other letter "false".
    for target in targets:
        other = "B" if target == "A" else "A"
        assert prop.value(f"{target}", target=target) == "true"
        assert prop.value(f" {other}.", target=target) == "false"
