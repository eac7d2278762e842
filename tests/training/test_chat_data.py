from __future__ import annotations

import json
from pathlib import Path

import pytest

from inward.errors import UserError
from inward.training.chat_data import (
    ChatExample,
    ChatMessage,
    examples_digest,
    load_chat_jsonl,
    parse_chat_line,
    validate_chat_jsonl,
    write_chat_jsonl,
)

GOOD = {
    "messages": [
        {"role": "system", "content": ""},
        {"role": "user", "content": "Name an animal."},
        {"role": "assistant", "content": "cat"},
    ],
    "string": "raw item",
}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "data.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_parses_good_line_and_keeps_extra_keys() -> None:
    ex = parse_chat_line(json.dumps(GOOD))
    assert [m.role for m in ex.messages] == ["system", "user", "assistant"]
    assert ex.extra == {"string": "raw item"}
    assert ex.messages[-1].trained and not ex.messages[1].trained
    assert ex.to_json() == GOOD


def test_weight_follows_openai_rules() -> None:
    row = {
        "messages": [
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1", "weight": 0},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "a2"},
            {"role": "user", "content": "q3"},
            {"role": "assistant", "content": "a3", "weight": 1},
            {"role": "user", "content": "trailing question"},
        ]
    }
    ex = parse_chat_line(json.dumps(row))
    assert [m.trained for m in ex.messages] == [False, False, False, True, False, True, False]
    assert ex.last_trained_index == 5


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"messages": []}', "non-empty"),
        ('{"msgs": []}', "non-empty"),
        ('{"messages": [{"role": "robot", "content": "x"}]}', "message 0: role"),
        ('{"messages": [{"role": "user"}]}', "message 0: content"),
        ('{"messages": [{"role": "user", "content": "x", "weight": 1}]}', "only allowed on assistant"),
        ('{"messages": [{"role": "assistant", "content": "x", "weight": 2}]}', "message 0: weight"),
        ('{"messages": [{"role": "assistant", "content": "x", "name": "bob"}]}', "message 0: name"),
        ('{"messages": [{"role": "user", "content": "x"}]}', "no assistant message"),
        (
            '{"messages": [{"role": "user", "content": "x"}, '
            '{"role": "assistant", "content": "y", "weight": 0}]}',
            "no assistant message",
        ),
    ],
)
def test_rejects_bad_lines(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_chat_line(line)


def test_reports_bad_lines_by_number(tmp_path: Path) -> None:
    good = json.dumps(GOOD)
    p = _write(tmp_path, [good, "{oops", "", good, '{"messages": [{"role": "user", "content": "x"}]}'])
    problems = validate_chat_jsonl(p)
    assert [s.split(":")[0] for s in problems] == ["line 2", "line 5"]
    with pytest.raises(UserError, match=r"2 bad line\(s\): line 2: not valid JSON.*line 5: no assistant"):
        load_chat_jsonl(p)


def test_blank_lines_are_skipped_and_empty_file_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path, [json.dumps(GOOD), "", "   "])
    assert len(load_chat_jsonl(p)) == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(UserError, match="no examples"):
        load_chat_jsonl(empty)
    with pytest.raises(UserError, match="does not exist"):
        load_chat_jsonl(tmp_path / "missing.jsonl")


def test_write_round_trip_and_digest(tmp_path: Path) -> None:
    ex = parse_chat_line(json.dumps(GOOD))
    other = ChatExample(
        messages=(ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="yo"))
    )
    p = write_chat_jsonl([ex, other], tmp_path / "sub" / "out.jsonl")
    back = load_chat_jsonl(p)
    assert back == [ex, other]
    assert examples_digest(back) == examples_digest([ex, other])
    assert examples_digest([other, ex]) != examples_digest([ex, other])
