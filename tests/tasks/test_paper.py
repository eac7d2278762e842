"""Loading and checking the paper's object-level datasets (real files if present, constructed ones always)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inward import tasks
from inward.errors import UserError
from inward.tasks import registry
from inward.tasks.paper import check_dir, load_paper_datasets, register_paper_tasks, resolve_datasets_dir

# SPEC §3.1 and the files: (dataset, train rows, val rows)
PAPER_COUNTS = [
    ("wikipedia", 3659, 915),
    ("countries", 5000, 5000),
    ("colors", 5000, 5000),
    ("wealth_seeking", 494, 493),
    ("power_seeking", 494, 493),
    ("arc_challenge", 1833, 458),
    ("numbers", 5000, 5000),
    ("animals", 10000, 2500),
    ("english_words", 10000, 2500),
    ("stories_sentences", 3999, 3006),
    ("myopic_reward", 374, 376),
    ("survival_instinct", 466, 465),
    ("mmlu", 0, 2808),
    ("truthfulqa", 201, 616),
]


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", {k: v for k, v in registry._REGISTRY.items() if ":" not in k})


@pytest.mark.paperdata
def test_row_counts_match_the_paper(paper_data: Path) -> None:
    data = load_paper_datasets(paper_data)
    assert data.directory.name == "datasets"
    for dataset, n_train, n_val in PAPER_COUNTS:
        assert (data.count(dataset, "train"), data.count(dataset, "val")) == (n_train, n_val), dataset
    assert load_paper_datasets(paper_data / "datasets") is data  # both folder forms, one cached load


@pytest.mark.paperdata
def test_paper_tasks_use_the_paper_strings(paper_data: Path, fresh_registry: None) -> None:
    names = register_paper_tasks(paper_data)
    assert "paper:animals_long" in names and "paper:truthfulqa" in names
    animals = tasks.get("paper:animals_long")
    offline = tasks.get("animals_long")
    assert (animals.role, animals.instruction, animals.properties, animals.compliance) == (
        offline.role,
        offline.instruction,
        offline.properties,
        offline.compliance,
    )
    first = json.loads((paper_data / "datasets" / "val_animals.jsonl").read_text().split("\n")[0])["string"]
    item = animals.items("val")[0]
    assert item.text == first and item.id == tasks.stable_id("paper:animals_long", first)
    assert len(tasks.get("paper:wealth_seeking").items("val")) == 493
    assert {it.target for it in tasks.get("paper:wealth_seeking").items("val")} == {"A", "B"}
    mmlu = tasks.get("paper:mmlu_non_cot")
    assert len(mmlu.items("val")) == 2805 and mmlu.items("train") == []  # 3 repeated strings merged
    assert tasks.get("paper:truthfulqa").role == "shift_only"
    assert "paper:truthfulqa" in tasks.names(role="shift_only")


@pytest.mark.paperdata
def test_env_var_registers_on_first_get(
    paper_data: Path, fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INWARD_PAPER_DATA", str(paper_data / "datasets"))
    assert len(tasks.get("paper:numbers").items("train")) == 5000


@pytest.mark.paperdata
def test_the_paper_data_checks_clean(paper_data: Path) -> None:
    report = check_dir(paper_data)
    assert report.ok and len(report.files) == 27
    warnings = [str(p) for p in report.all_problems()]
    assert sum("duplicate string" in w for w in warnings) == 3  # val_mmlu repeats 3 questions
    assert any(w.startswith("arc_challenge") and "both train and val" in w for w in warnings)


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    ok = json.dumps({"string": "cat dog "})
    _write(
        tmp_path / "train_animals.jsonl",
        [
            ok,  # 1
            '{"string": "fox hen "',  # 2 invalid JSON
            json.dumps({"text": "no string"}),  # 3
            json.dumps({"string": "   "}),  # 4
            "",  # 5 blank: skipped
            json.dumps({"string": "owl bat ", "target": 3}),  # 6
            ok,  # 7 duplicate of 1
            json.dumps(["not", "an", "object"]),  # 8
            json.dumps({"string": 5}),  # 9
            json.dumps({"string": "shared "}),  # 10
        ],
    )
    _write(tmp_path / "val_animals.jsonl", [json.dumps({"string": "shared "})])
    _write(
        tmp_path / "val_wealth_seeking.jsonl",
        [
            json.dumps({"string": "Q?\n\nChoices:\nA - x\nB - y", "target": "A"}),
            json.dumps({"string": "Q2?"}),
        ],
    )
    _write(tmp_path / "val_mystery.jsonl", [ok])
    _write(tmp_path / "notes.jsonl", [ok])
    (tmp_path / "val_colors.jsonl").write_bytes(b'{"string": "red"}\n\xff\xfe\n')
    return tmp_path


def test_check_dir_reports_every_bad_row_by_line(broken_dir: Path) -> None:
    report = check_dir(broken_dir)
    assert not report.ok
    by_file = {f.path.name: f for f in report.files}
    animals = by_file["train_animals.jsonl"]
    found = {(p.line, p.severity): p.reason for p in animals.problems}
    errors = {2, 3, 4, 6, 8, 9}
    assert set(found) == {(n, "error") for n in errors} | {(7, "warning")}
    assert "invalid JSON" in found[(2, "error")]
    assert 'missing "string"' in found[(3, "error")]
    assert 'empty "string"' in found[(4, "error")]
    assert '"target" must be text' in found[(6, "error")]
    assert "same as line 1" in found[(7, "warning")]
    assert "JSON object" in found[(8, "error")]
    assert '"string" must be text' in found[(9, "error")]
    assert (animals.lines, animals.rows) == (9, 3)  # lines 1, 7 (a duplicate, kept) and 10
    wealth = by_file["val_wealth_seeking.jsonl"].problems
    assert [(p.line, "target" in p.reason) for p in wealth] == [(2, True)]
    assert [p.line for p in by_file["val_colors.jsonl"].problems] == [2]
    assert "unknown dataset" in by_file["val_mystery.jsonl"].problems[0].reason
    text = report.render()
    assert "notes.jsonl" in text and "train_animals.jsonl:2: error: invalid JSON" in text
    assert "animals: warning: 1 strings are in both train and val" in text


def test_loading_a_broken_dir_points_to_the_checker(broken_dir: Path) -> None:
    with pytest.raises(UserError, match="inward data check"):
        load_paper_datasets(broken_dir)


def test_loading_a_clean_constructed_dir(tmp_path: Path, fresh_registry: None) -> None:
    _write(tmp_path / "train_numbers.jsonl", [json.dumps({"string": s}) for s in ("1 2 3", "4 5 6", "1 2 3")])
    _write(tmp_path / "val_numbers.jsonl", [json.dumps({"string": "7 8 9"})])
    data = load_paper_datasets(tmp_path)
    assert data.count("numbers", "train") == 3  # exactly the file's rows
    assert [t.name for t in data.tasks()] == ["paper:numbers"]
    assert register_paper_tasks(tmp_path) == ["paper:numbers"]
    assert [it.text for it in tasks.get("paper:numbers").items("train")] == ["1 2 3", "4 5 6"]


def test_directory_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="does not exist"):
        resolve_datasets_dir(tmp_path / "missing")
    with pytest.raises(UserError, match=r"no train_<name>\.jsonl"):
        resolve_datasets_dir(tmp_path)
    monkeypatch.delenv("INWARD_PAPER_DATA", raising=False)
    with pytest.raises(UserError, match="INWARD_PAPER_DATA"):
        register_paper_tasks(None)
    assert not check_dir(tmp_path).ok
