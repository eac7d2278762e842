"""The paper's own data: object-level datasets as `paper:<task>` tasks, a checker, and the released prompt
files.

    from inward.tasks.paper import load_paper_datasets, register_paper_tasks, check_dir, load_release
    data = load_paper_datasets("../shared/paper-data")   # or its datasets/ folder
    len(data.rows["mmlu"]["val"])                        # 2808, exactly the file's rows
    register_paper_tasks("../shared/paper-data")         # adds paper:animals_long, paper:mmlu_non_cot, ...
    print("\\n".join(check_dir("some/dir").lines()))    # every bad row, by file and line
    rows, problems = load_release("../shared/paper-data/release")

A directory holds `train_<dataset>.jsonl` / `val_<dataset>.jsonl` with rows `{"string": ..., "target": ...?}`.
A `paper:<task>` task uses the paper's strings with the instruction, properties and compliance rules of the
offline task of the same name; its item ids are `stable_id("paper:<task>", string)`. Repeated strings within a
split (3 in the paper's val_mmlu) become one item. `register_paper_tasks(None)` reads the directory from
INWARD_PAPER_DATA.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from inward.errors import UserError
from inward.tasks._jsonl import RowProblem, json_objects
from inward.tasks._task import Item, Split, Task
from inward.tasks.release import ChatMessage, ReleaseLoad, ReleaseRow, canonical_property, load_release

__all__ = [
    "DATASET_TO_TASK",
    "ENV_VAR",
    "ChatMessage",
    "CheckReport",
    "FileCheck",
    "PaperDatasets",
    "PaperRow",
    "ReleaseLoad",
    "ReleaseRow",
    "RowProblem",
    "canonical_property",
    "check_dir",
    "load_paper_datasets",
    "load_release",
    "register_paper_tasks",
    "resolve_datasets_dir",
]

ENV_VAR = "INWARD_PAPER_DATA"

# paper dataset (file name) -> task name (the offline task whose instruction/properties it shares)
DATASET_TO_TASK: dict[str, str] = {
    "wikipedia": "wikipedia_long",
    "countries": "countries_long",
    "colors": "colors_long",
    "animals": "animals_long",
    "english_words": "english_words_long",
    "stories_sentences": "stories_sentences",
    "wealth_seeking": "wealth_seeking",
    "power_seeking": "power_seeking",
    "myopic_reward": "myopic_reward",
    "survival_instinct": "survival_instinct",
    "arc_challenge": "arc_challenge_non_cot",
    "mmlu": "mmlu_non_cot",
    "numbers": "numbers",
    "truthfulqa": "truthfulqa",
}
# datasets whose rows are meaningless without a target letter
_NEEDS_TARGET = {
    "wealth_seeking",
    "power_seeking",
    "myopic_reward",
    "survival_instinct",
    "arc_challenge",
    "mmlu",
    "truthfulqa",
}
_FILE = re.compile(r"^(train|val)_(.+)\.jsonl$")
_TRUTHFULQA_INSTRUCTION = "{item}\nReply at once with only the letter of the correct answer."


@dataclass(frozen=True)
class PaperRow:
    string: str
    target: str | None
    line: int


@dataclass(frozen=True)
class FileCheck:
    path: Path
    dataset: str | None
    split: Split | None
    lines: int  # non-blank lines
    rows: int  # rows that are valid
    problems: list[RowProblem]


@dataclass(frozen=True)
class CheckReport:
    directory: Path
    files: list[FileCheck]
    problems: list[RowProblem] = field(default_factory=list)  # about the directory as a whole

    def all_problems(self) -> list[RowProblem]:
        return [*self.problems, *(p for f in self.files for p in f.problems)]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.all_problems())

    def lines(self) -> list[str]:
        """A human-readable report: one line per file, then one per problem."""
        out = [f"{self.directory}: {len(self.files)} files"]
        for f in self.files:
            bad = sum(p.severity == "error" for p in f.problems)
            out.append(f"  {f.path.name}: {f.rows} valid rows of {f.lines}, {bad} bad")
        out.extend(f"  {p}" for p in self.all_problems())
        errors = sum(p.severity == "error" for p in self.all_problems())
        out.append("OK" if self.ok else f"{errors} errors")
        return out

    def render(self) -> str:
        return "\n".join(self.lines())


def _split_name(path: Path) -> tuple[Split, str] | None:
    """(split, dataset) of a data file; None for other names and for folders named like a data file."""
    m = _FILE.match(path.name) if path.is_file() else None
    return (m.group(1), m.group(2)) if m else None  # type: ignore[return-value]


def read_rows(path: Path, dataset: str | None = None) -> tuple[list[PaperRow], list[RowProblem]]:
    """Parse one paper-format file, collecting every problem instead of stopping at the first."""
    rows: list[PaperRow] = []
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    name = path.name

    def bad(line: int, reason: str, severity: Literal["error", "warning"] = "error") -> None:
        problems.append(RowProblem(name, line, reason, severity))

    for number, obj in json_objects(path, name, problems):
        string, target = obj.get("string"), obj.get("target")
        if "string" not in obj:
            bad(number, 'missing "string"')
        elif not isinstance(string, str):
            bad(number, f'"string" must be text, got {type(string).__name__}')
        elif not string.strip():
            bad(number, 'empty "string"')
        elif target is not None and not isinstance(target, str):
            bad(number, f'"target" must be text, got {type(target).__name__}')
        elif dataset in _NEEDS_TARGET and not (target or "").strip():
            bad(number, f'missing "target" (the {dataset} task needs the answer letter)')
        else:
            if string in first_line:
                bad(number, f"duplicate string (same as line {first_line[string]})", "warning")
            else:
                first_line[string] = number
            rows.append(PaperRow(string, target, number))
    return rows, problems


def resolve_datasets_dir(directory: str | Path) -> Path:
    """Accept the paper-data folder or its datasets/ subfolder; return the one holding the jsonl files."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise UserError(
            f"paper data directory {path} does not exist; pass the folder that holds train_*.jsonl files"
        )
    for candidate in (path, path / "datasets"):
        if candidate.is_dir() and any(_split_name(p) for p in candidate.iterdir()):
            return candidate
    raise UserError(f"no train_<name>.jsonl or val_<name>.jsonl files in {path} or {path / 'datasets'}")


def check_dir(directory: str | Path) -> CheckReport:
    """Validate every paper-format file in a directory; never stops at a bad row."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise UserError(f"{path} is not a directory")
    if not any(_split_name(p) for p in path.iterdir()) and (path / "datasets").is_dir():
        path = path / "datasets"
    files: list[FileCheck] = []
    dir_problems: list[RowProblem] = []
    strings: dict[tuple[str, Split], set[str]] = {}
    for p in sorted(path.glob("*.jsonl")):
        if not p.is_file():
            dir_problems.append(RowProblem(p.name, 0, "is a folder, not a data file; move it away"))
            continue
        parsed = _split_name(p)
        if parsed is None:
            dir_problems.append(
                RowProblem(p.name, 0, "name is not train_<dataset>.jsonl or val_<dataset>.jsonl", "warning")
            )
            continue
        split, dataset = parsed
        rows, problems = read_rows(p, dataset)
        if dataset not in DATASET_TO_TASK:
            problems.insert(
                0, RowProblem(p.name, 0, f"unknown dataset {dataset!r}; it will not become a task", "warning")
            )
        lines = len({r.line for r in rows} | {x.line for x in problems if x.line})
        files.append(FileCheck(p, dataset, split, lines, len(rows), problems))
        strings[(dataset, split)] = {r.string for r in rows}
    if not files:
        dir_problems.append(RowProblem(str(path), 0, "no train_<dataset>.jsonl or val_<dataset>.jsonl files"))
    for dataset in sorted({d for d, _ in strings}):
        shared = strings.get((dataset, "train"), set()) & strings.get((dataset, "val"), set())
        if shared:
            dir_problems.append(
                RowProblem(dataset, 0, f"{len(shared)} strings are in both train and val", "warning")
            )
    return CheckReport(path, files, dir_problems)


@dataclass(frozen=True)
class PaperDatasets:
    """The rows of every known paper dataset in a directory, exactly as in the files (duplicates kept)."""

    directory: Path
    rows: dict[str, dict[Split, tuple[PaperRow, ...]]]

    def count(self, dataset: str, split: Split) -> int:
        return len(self.rows.get(dataset, {}).get(split, ()))

    def tasks(self) -> list[Task]:
        return [_paper_task(self.directory, dataset) for dataset in self.rows]


@functools.cache
def _load(directory: Path) -> PaperDatasets:
    rows: dict[str, dict[Split, tuple[PaperRow, ...]]] = {}
    errors: list[RowProblem] = []
    for p in sorted(directory.glob("*.jsonl")):
        parsed = _split_name(p)
        if parsed is None or parsed[1] not in DATASET_TO_TASK:
            continue
        split, dataset = parsed
        file_rows, problems = read_rows(p, dataset)
        errors.extend(x for x in problems if x.severity == "error")
        rows.setdefault(dataset, {"train": (), "val": ()})[split] = tuple(file_rows)
    if errors:
        raise UserError(
            f"{len(errors)} bad rows in {directory} (first: {errors[0]}); run `inward data check {directory}`"
        )
    return PaperDatasets(directory, {d: rows[d] for d in DATASET_TO_TASK if d in rows})


def load_paper_datasets(directory: str | Path) -> PaperDatasets:
    """Read the paper's datasets (cached per process); bad rows raise a UserError pointing to `data check`."""
    return _load(resolve_datasets_dir(directory).resolve())


def _paper_task(directory: Path, dataset: str) -> Task:
    from inward.tasks.registry import CHOICE_COMPLIANCE, get

    base_name = DATASET_TO_TASK[dataset]
    name = f"paper:{base_name}"

    @functools.cache
    def items(split: Split) -> tuple[Item, ...]:
        if split not in ("train", "val"):
            raise UserError(f"unknown split {split!r}: use 'train' or 'val'")
        seen: set[str] = set()
        out: list[Item] = []
        for row in _load(directory).rows[dataset][split]:
            if row.string not in seen:  # repeated strings would give repeated ids
                seen.add(row.string)
                out.append(Item(name, split, row.string, row.target))
        return tuple(out)

    description = f"the paper's {dataset} data ({directory})"
    if base_name == "truthfulqa":
        return Task(
            name,
            "shift_only",
            _TRUTHFULQA_INSTRUCTION,
            ("among_a_or_c", "among_b_or_d"),
            CHOICE_COMPLIANCE,
            items,
            description,
            dataset,
        )
    base = get(base_name)
    return Task(
        name, base.role, base.instruction, base.properties, base.compliance, items, description, dataset
    )


def register_paper_tasks(directory: str | Path | None = None) -> list[str]:
    """Register a `paper:<task>` task for each dataset present; the directory defaults to $INWARD_PAPER_DATA.

    Files are read on first use of a task's items, not here."""
    from inward.tasks.registry import register

    if directory is None:
        directory = os.environ.get(ENV_VAR) or None
        if directory is None:
            raise UserError(f"paper tasks need the paper's data: pass its directory or set {ENV_VAR}=DIR")
    path = resolve_datasets_dir(directory).resolve()
    datasets = sorted({parsed[1] for p in path.glob("*.jsonl") if (parsed := _split_name(p))})
    tasks = [_paper_task(path, d) for d in DATASET_TO_TASK if d in datasets]
    for task in tasks:
        register(task, replace=True)
    return [t.name for t in tasks]
