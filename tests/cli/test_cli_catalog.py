"""The catalogue commands (tasks, properties, prompts, data) and the CLI's error and help behaviour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from inward import properties as P
from inward import tasks as T
from inward.cli import cli, main
from inward.prompts import DEFAULT, template_from_release
from inward.tasks.paper import load_release

SRC = Path(__file__).resolve().parents[2] / "src"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`inward.cli.main` as the console script runs it: (exit status, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


# -- tasks, properties --------------------------------------------------------------------------------------


def test_tasks_list_shows_all_13_tasks() -> None:
    code, out = invoke("tasks", "list")
    assert code == 0
    assert len(T.names()) == 13
    for name in T.names():
        assert name in out


def test_tasks_list_json_and_role_filter() -> None:
    code, out = invoke("tasks", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["task"] for r in rows] == T.names()
    animals = next(r for r in rows if r["task"] == "animals_long")
    assert animals["role"] == "held_out"
    assert animals["val"] == len(T.get("animals_long").items("val")) > 0
    assert animals["properties"] == list(T.get("animals_long").properties)

    code, out = invoke("tasks", "list", "--json", "--role", "held_out")
    assert [r["task"] for r in json.loads(out)] == list(T.HELD_OUT_TASKS)
    assert len(T.HELD_OUT_TASKS) == 6


def test_tasks_show_prints_definition_and_items_with_ids() -> None:
    task = T.get("animals_long")
    code, out = invoke("tasks", "show", "animals_long", "-n", "5")
    assert code == 0
    assert out.startswith("animals_long")
    assert "held_out" in out
    for prop in task.properties:
        assert prop in out
    for item in task.items("val")[:5]:
        # The id in brackets must survive (it is not a markup tag).
        assert f"- [{item.id}] {item.text!r}" in out
    assert task.items("val")[5].text not in out


def test_properties_list() -> None:
    code, out = invoke("properties", "list")
    assert code == 0
    for name in P.names():
        assert name in out
    assert "training only" in out  # identity
    assert "needs target" in out  # ethical stance


# -- prompts ------------------------------------------------------------------------------------------------


def test_prompts_show_renders_the_exact_prompts_and_their_hashes() -> None:
    task = T.get("animals_long")
    item = task.items("val")[0]
    code, out = invoke("prompts", "show", "animals_long", "-p", "second_character")
    assert code == 0
    assert f"[inward-v1 {DEFAULT.hash(task)}]" in out
    assert f"[inward-v1 {DEFAULT.hash(task, 'second_character')}]" in out
    obj = DEFAULT.object_messages(task, item)[0]["content"]
    hyp = DEFAULT.hypothetical_messages(task, item, "second_character")[0]["content"]
    # Printed verbatim (no re-wrapping), each after its role.
    assert f"user: {obj}" in out
    assert f"user: {hyp}" in out


def test_prompts_show_index_and_split() -> None:
    task = T.get("numbers")
    item = task.items("train")[2]
    code, out = invoke("prompts", "show", "numbers", "--split", "train", "--index", "2")
    assert code == 0
    assert task.render(item) in out
    assert "hypothetical" not in out


def test_prompts_show_with_the_paper_release(paper_data: Path) -> None:
    release = paper_data / "release"
    rows, _ = load_release(release)
    tpl = template_from_release(rows)
    task = T.get("survival_instinct")
    item = task.items("val")[0]
    code, out = invoke(
        "prompts", "show", "survival_instinct", "-p", "ethical_stance", "--release", str(release)
    )
    assert code == 0
    assert f"[paper-release {tpl.hash(task)}]" in out
    assert f"[paper-release {tpl.hash(task, 'ethical_stance')}]" in out
    assert f"[paper-release {tpl.hash(task)}]" != f"[paper-release {DEFAULT.hash(task)}]"
    assert tpl.object_messages(task, item)[0]["content"] in out
    assert tpl.hypothetical_messages(task, item, "ethical_stance")[0]["content"] in out


# -- data check ---------------------------------------------------------------------------------------------


def test_data_check_reports_a_broken_line(tmp_path: Path) -> None:
    good = json.dumps({"string": "cat dog owl"})
    other = json.dumps({"string": "fox emu"})
    (tmp_path / "train_animals.jsonl").write_text(f"{good}\n{good[:-3]}\n{other}\n")
    (tmp_path / "val_animals.jsonl").write_text(json.dumps({"string": "ant bee"}) + "\n")
    code, out = invoke("data", "check", str(tmp_path))
    assert code == 1
    assert "train_animals.jsonl: 2 valid rows of 3, 1 bad" in out
    assert "train_animals.jsonl:2: error:" in out
    assert "val_animals.jsonl: 1 valid rows of 1, 0 bad" in out
    assert "train_animals.jsonl:1:" not in out and "train_animals.jsonl:3:" not in out


def test_data_check_on_the_paper_datasets_passes(paper_data: Path) -> None:
    code, out = invoke("data", "check", str(paper_data / "datasets"))
    assert code == 0
    assert "train_animals.jsonl" in out and "val_mmlu.jsonl" in out
    assert "error:" not in out


# -- errors and help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("tasks", "show", "no_such_task"), "unknown task 'no_such_task'"),
        (("prompts", "show", "no_such_task"), "unknown task 'no_such_task'"),
        (("prompts", "show", "animals_long", "-p", "fifth_character"), "unknown property 'fifth_character'"),
        (("prompts", "show", "animals_long", "--template", "nope"), "unknown prompt template 'nope'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    code, _, err = run_main(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_usage_errors_exit_2_without_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_main(capsys, "data", "check", str(tmp_path / "missing"))
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err
    code, _, err = run_main(capsys, "tasks", "frobnicate")
    assert code == 2 and "No such command" in err


def test_data_check_failure_exits_1_through_main(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "val_colors.jsonl").write_text('{"string": "red"}\n{"strin": "blue"}\n')
    code, out, _ = run_main(capsys, "data", "check", str(tmp_path))
    assert code == 1
    assert "val_colors.jsonl:2:" in out


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*path, name)))
        else:
            out.append((*path, name))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "inward")
def test_help_works_everywhere(path: tuple[str, ...]) -> None:
    code, out = invoke(*path, "-h")
    assert code == 0
    assert out.startswith("Usage: ")
    assert "-h, --help" in out


def test_every_catalogue_group_is_registered() -> None:
    assert {"tasks", "properties", "prompts", "data"} <= set(cli.commands)


def test_python_dash_m_inward_runs_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    env["INWARD_WORKSPACE"] = str(tmp_path / "ws")
    ok = subprocess.run(
        [sys.executable, "-m", "inward", "tasks", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert len(json.loads(ok.stdout)) == 13
