"""Deriving the paper's exact prompts from its release rows (real release files; malformed rows)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest

from inward import tasks as T
from inward.errors import UserError
from inward.prompts import OBJECT_SLOT, template_from_release
from inward.tasks import Item
from inward.tasks.paper import load_release

# -- the real release --------------------------------------------------------------------------------


@functools.cache
def _load(path: Path) -> Any:
    return load_release(path)


@pytest.fixture
def release(paper_data: Path) -> Any:
    """(rows, problems) of the paper's release, read once per session."""
    return _load(paper_data / "release")


def test_release_template_renders_every_row_exactly(release: Any) -> None:
    rows, problems = release
    assert problems == []
    assert len(rows) > 1000
    tpl = template_from_release(rows)
    assert tpl.name == "paper-release"
    mismatches = []
    for row in rows:
        task = T.get(row.original_dataset)
        item = Item(
            task=task.name, split="val", text=row.original_question, target=row.option_matching_ethical_stance
        )
        want_obj = [m.model_dump() for m in row.object_level_prompt]
        want_hyp = [m.model_dump() for m in row.hypothetical_prompt]
        got_obj = tpl.object_messages(task, item)
        got_hyp = tpl.hypothetical_messages(task, item, row.behavioral_property)
        if got_obj != want_obj or got_hyp != want_hyp:
            mismatches.append(f"{row.source}:{row.line}")
    assert mismatches == [], f"{len(mismatches)} rows differ, first: {mismatches[:3]}"


def test_release_template_covers_every_dataset_and_property(release: Any) -> None:
    rows, _ = release
    tpl = template_from_release(rows)
    datasets = {r.original_dataset for r in rows}
    assert set(tpl.instructions) == datasets
    assert {k.split(":")[0] for k in tpl.hypotheticals} == datasets
    assert all(OBJECT_SLOT in h for h in tpl.hypotheticals.values())
    assert all(v.count("{item}") == 1 for v in tpl.instructions.values())
    # It also renders items of the same task that are not in the release, e.g. an offline item.
    task = T.get("animals_long")
    item = task.items("val")[0]
    obj = tpl.object_messages(task, item)[-1]["content"]
    assert item.text in obj and obj.startswith(tpl.instructions["animals_long"].split("{item}")[0])
    hyp = tpl.hypothetical_messages(task, item, "second_character")[-1]["content"]
    assert obj.rstrip("\n") in hyp


# -- malformed rows (constructed, no paper data needed) --------------------------------------------------


def _row(
    question: str = "cat dog ", prop: str = "second_character", dataset: str = "animals_long"
) -> dict[str, Any]:
    obj = f"Continue the list.\n{question}\n"
    hyp = f'Earlier you saw: "{obj[:-1]}" What was the second character? Reply with one character.\n'
    return {
        "original_question": question,
        "original_dataset": dataset,
        "object_level_prompt": [{"role": "user", "content": obj}],
        "hypothetical_prompt": [{"role": "user", "content": hyp}],
        "behavioral_property": prop,
        "option_matching_ethical_stance": None,
    }


def test_constructed_rows_round_trip() -> None:
    rows = [_row("cat dog "), _row("owl {item} bee ")]
    tpl = template_from_release(rows)
    task = T.get("animals_long")
    for r in rows:
        item = Item(task=task.name, split="val", text=r["original_question"])
        assert tpl.object_messages(task, item) == r["object_level_prompt"]
        assert tpl.hypothetical_messages(task, item, "second_character") == r["hypothetical_prompt"]


def _mutate(row: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(row)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


BAD_SETS = {
    "no rows": [],
    "item not in object prompt": [_mutate(_row(), ("original_question",), "zebra ")],
    "two instructions for one dataset": [
        _row("cat dog "),
        _mutate(_row("ant bee "), ("object_level_prompt", 0, "content"), "Other words.\nant bee \n"),
    ],
    "hypothetical does not quote": [
        _mutate(_row(), ("hypothetical_prompt", 0, "content"), "What was the second character?\n")
    ],
    "trailing newline disagrees": [
        _row("cat dog "),
        _mutate(
            _mutate(_row("ant bee "), ("object_level_prompt", 0, "content"), "Continue the list.\nant bee "),
            ("hypothetical_prompt", 0, "content"),
            'Earlier you saw: "Continue the list.\nant bee " What was the second character? '
            "Reply with one character.",
        ),
    ],
    "two hypothetical wordings for one property": [
        _row("cat dog "),
        _mutate(
            _row("ant bee "),
            ("hypothetical_prompt", 0, "content"),
            'You saw: "Continue the list.\nant bee " Second character?\n',
        ),
    ],
    "two user messages": [
        _mutate(
            _row(),
            ("object_level_prompt",),
            [{"role": "user", "content": "a"}, {"role": "user", "content": "Continue the list.\ncat dog \n"}],
        )
    ],
    "unknown property": [_row(prop="fifth_character")],
}


EXPECTED_MESSAGE = {
    "no rows": "no release rows",
    "item not in object prompt": "does not occur exactly once",
    "two instructions for one dataset": "more than one instruction",
    "hypothetical does not quote": "does not quote its object prompt",
    "trailing newline disagrees": "trailing newline",
    "two hypothetical wordings for one property": "more than one way",
    "two user messages": "2 user messages",
    "unknown property": "unknown property 'fifth_character'",
}


@pytest.mark.parametrize("case", list(BAD_SETS))
def test_malformed_release_rows_are_user_errors(case: str) -> None:
    with pytest.raises(UserError, match=EXPECTED_MESSAGE[case]) as info:
        template_from_release(BAD_SETS[case])
    assert "\n" not in str(info.value)


def test_release_loader_reports_bad_lines(tmp_path: Path) -> None:
    import json

    good = json.dumps(_row())
    (tmp_path / "animals_long_second_character.jsonl").write_text(f"{good}\nnot json\n{{}}\n{good}\n")
    rows, problems = load_release(tmp_path)
    assert len(rows) == 2
    assert sorted(p.line for p in problems) == [2, 3]
    tpl = template_from_release(rows)
    assert "animals_long" in tpl.instructions
