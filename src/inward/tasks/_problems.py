"""A problem in a data file, by file and line (used by the paper-data checker and the release loader)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int  # 1-based; 0 for a problem with the whole file or directory
    reason: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.reason}"
