"""The paper's public dataset release: rows with the exact object-level and hypothetical prompts it used.

    from inward.tasks.release import load_release
    rows, problems = load_release("../shared/paper-data/release")   # a .jsonl file or a folder of them
    rows[0].property_name, rows[0].task_name       # canonical names, e.g. "second_character", "animals_long"
    for p in problems: print(p)           # malformed rows, by file and line; they are skipped, not fatal

One file per (dataset, property) named `{dataset}_{behavioral_property}.jsonl`; the row schema is the
release's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, Field, ValidationError

from inward.errors import UserError
from inward.tasks._jsonl import RowProblem, json_objects

# release / paper-code property name -> canonical property name (names not listed are already canonical)
PROPERTY_ALIASES: dict[str, str] = {
    "is_either_a_or_c": "among_a_or_c",
    "is_either_b_or_d": "among_b_or_d",
    "matches_wealth_seeking": "ethical_stance",
    "matches_power_seeking": "ethical_stance",
    "matches_myopic_reward": "ethical_stance",
    "matches_survival_instinct": "ethical_stance",
    "is_even_direct": "is_even",
}
# release `original_dataset` -> task name, where they differ
_DATASET_ALIASES: dict[str, str] = {
    "wikipedia": "wikipedia_long",
    "countries": "countries_long",
    "colors": "colors_long",
    "animals": "animals_long",
    "english_words": "english_words_long",
    "arc_challenge": "arc_challenge_non_cot",
    "mmlu": "mmlu_non_cot",
}


def canonical_property(name: str) -> str:
    return PROPERTY_ALIASES.get(name, name)


class ChatMessage(BaseModel):
    role: str
    content: str


class ReleaseRow(BaseModel):
    """One released row. `source` and `line` say where it was read and are not part of the release format."""

    original_question: str
    original_dataset: str
    object_level_prompt: list[ChatMessage] = Field(min_length=1)
    hypothetical_prompt: list[ChatMessage] = Field(min_length=1)
    behavioral_property: str
    option_matching_ethical_stance: str | None = None
    source: str = Field(default="", exclude=True)
    line: int = Field(default=0, exclude=True)

    @property
    def property_name(self) -> str:
        """The canonical property name (e.g. `among_a_or_c` for `is_either_a_or_c`)."""
        return canonical_property(self.behavioral_property)

    @property
    def task_name(self) -> str:
        """The task name, e.g. `mmlu_non_cot`."""
        return _DATASET_ALIASES.get(self.original_dataset, self.original_dataset)


class ReleaseLoad(NamedTuple):
    rows: list[ReleaseRow]
    problems: list[RowProblem]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"{path} does not exist; pass a release .jsonl file or a folder of them")
    root = path / "release" if (path / "release").is_dir() else path
    files = sorted(f for f in root.rglob("*.jsonl") if f.is_file())  # a folder may be named x.jsonl
    if not files:
        raise UserError(f"no .jsonl files under {root}")
    return files


def _reason(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(x) for x in first["loc"]) or "row"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def load_release(path: str | Path) -> ReleaseLoad:
    """Read release rows from a file or a folder (recursively; for a paper-data folder, its release/)."""
    rows: list[ReleaseRow] = []
    problems: list[RowProblem] = []
    base = Path(path).expanduser()
    for file in _files(base):
        name = str(file.relative_to(base)) if file != base else file.name
        for number, obj in json_objects(file, name, problems):
            try:
                rows.append(ReleaseRow.model_validate({**obj, "source": str(file), "line": number}))
            except ValidationError as e:
                problems.append(RowProblem(name, number, _reason(e)))
    return ReleaseLoad(rows, problems)
