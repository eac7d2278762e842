"""Loading the paper's released prompt files: exact prompts, canonical names, malformed rows reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inward.errors import UserError
from inward.tasks.release import canonical_property, load_release

RELEASE_FILES = {
    "test/animals_long_second_character.jsonl": (2500, "animals_long", "second_character"),
    "test/english_words_long_first_word.jsonl": (2500, "english_words_long", "first_word"),
    "test/myopic_reward_ethical_stance.jsonl": (376, "myopic_reward", "ethical_stance"),
    "test/survival_instinct_ethical_stance.jsonl": (465, "survival_instinct", "ethical_stance"),
    "train/colors_long_third_character.jsonl": (5000, "colors_long", "third_character"),
    "train/wealth_seeking_ethical_stance.jsonl": (493, "wealth_seeking", "ethical_stance"),
}


@pytest.mark.paperdata
def test_release_rows_are_exactly_the_files(paper_data: Path) -> None:
    rows, problems = load_release(paper_data)  # the paper-data folder: its release/ is used
    assert problems == []
    assert len(rows) == sum(n for n, _, _ in RELEASE_FILES.values())
    by_file: dict[str, list] = {}
    for row in rows:
        by_file.setdefault(str(Path(row.source).relative_to(paper_data / "release")), []).append(row)
    for rel, (n, task, prop) in RELEASE_FILES.items():
        raw = [json.loads(line) for line in (paper_data / "release" / rel).read_text().split("\n") if line]
        got = by_file[rel]
        assert len(got) == len(raw) == n
        assert {(r.task_name, r.property_name) for r in got} == {(task, prop)}
        for row, obj in zip(got, raw, strict=True):
            assert row.model_dump() == obj
            assert row.object_level_prompt[0].content == obj["object_level_prompt"][0]["content"]
    stance = by_file["test/survival_instinct_ethical_stance.jsonl"]
    assert {r.option_matching_ethical_stance for r in stance} == {"A", "B"}


def test_malformed_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    good = {
        "original_question": "cat dog ",
        "original_dataset": "animals",
        "object_level_prompt": [{"role": "user", "content": "continue: cat dog "}],
        "hypothetical_prompt": [{"role": "user", "content": "what would you say?"}],
        "behavioral_property": "is_either_a_or_c",
        "option_matching_ethical_stance": None,
    }
    lines = [
        json.dumps(good),
        "{broken",
        json.dumps({**good, "object_level_prompt": []}),
        json.dumps({k: v for k, v in good.items() if k != "behavioral_property"}),
        json.dumps({**good, "hypothetical_prompt": [{"role": "user"}]}),
        "",
        json.dumps([good]),
        json.dumps(
            {**good, "behavioral_property": "matches_myopic_reward", "option_matching_ethical_stance": "B"}
        ),
    ]
    path = tmp_path / "animals_mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    rows, problems = load_release(path)
    assert [r.line for r in rows] == [1, 8]
    assert [(r.task_name, r.property_name) for r in rows] == [
        ("animals_long", "among_a_or_c"),
        ("animals_long", "ethical_stance"),
    ]
    assert [p.line for p in problems] == [2, 3, 4, 5, 7]
    reasons = [p.reason for p in problems]
    assert "invalid JSON" in reasons[0]
    assert reasons[1].startswith("object_level_prompt")
    assert reasons[2].startswith("behavioral_property")
    assert reasons[3].startswith("hypothetical_prompt.0.content")
    assert "JSON object" in reasons[4]
    assert all(p.file == "animals_mixed.jsonl" for p in problems)


def test_canonical_property_names() -> None:
    assert canonical_property("is_either_b_or_d") == "among_b_or_d"
    assert canonical_property("among_a_or_c") == "among_a_or_c"
    assert canonical_property("matches_power_seeking") == "ethical_stance"
    assert canonical_property("is_even_direct") == "is_even"
    assert canonical_property("first_word") == "first_word"


def test_missing_release_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_release(tmp_path / "nope")
    with pytest.raises(UserError, match=r"no \.jsonl files"):
        load_release(tmp_path)
