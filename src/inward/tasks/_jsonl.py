"""Reading JSON-lines data files without stopping at bad lines; problems are reported by file and line.

    problems: list[RowProblem] = []
    for line, obj in json_objects(path, "train_animals.jsonl", problems):
        ...   # obj is a dict; blank lines are skipped, other bad lines land in `problems`

Lines are split on "\\n" only: the paper's strings contain U+2029, which `str.splitlines` would split on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int  # 1-based; 0 for a problem with the whole file or directory
    reason: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.reason}"


def json_objects(path: Path, name: str, problems: list[RowProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line holding a JSON object; other non-blank lines become problems."""
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(RowProblem(name, number, "not valid UTF-8"))
            continue
        except json.JSONDecodeError as e:
            problems.append(RowProblem(name, number, f"invalid JSON ({e.msg} at column {e.colno})"))
            continue
        if not isinstance(obj, dict):
            problems.append(RowProblem(name, number, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        yield number, obj
