"""The plain data the report's templates lay out (templates/_macros.html.j2 renders each kind).

    Table(["group", "n"], [Row(["first word", "900"]), Row(["Average", "1,800"])], caption="Accuracy")
    Row([[r.claim, muted(Link("#self-training", "Self-prediction training"))], "600"], note=[Strong("Note:"), " …"])

A cell is plain text or a list of parts: text, `Code`, `Span` (muted / nw), `Link`, `Badge`, `Strong`, `Break`,
`Pre`. Nothing here is markup: the templates escape every string (autoescape), so results text shows as written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from inward.report import _format as F


@dataclass(frozen=True)
class Code:
    """Inline code (a model ref)."""

    text: str
    kind: ClassVar[str] = "code"


@dataclass(frozen=True)
class Span:
    """Parts in a span of one of the stylesheet's classes: muted (a quieter second line), nw (one line)."""

    cls: Literal["muted", "nw"]
    parts: Cell
    kind: ClassVar[str] = "span"


@dataclass(frozen=True)
class Link:
    """A link to a section or block of the page (``#self-training``)."""

    href: str
    text: str
    kind: ClassVar[str] = "link"


@dataclass(frozen=True)
class Badge:
    """A verdict as a coloured badge: mark and word (the colour is never the only cue), the rule as its title."""

    verdict: str
    rule: str | None = None
    kind: ClassVar[str] = "badge"

    @property
    def mark(self) -> str | None:
        return F.VERDICT_MARKS.get(self.verdict)


@dataclass(frozen=True)
class Strong:
    text: str
    kind: ClassVar[str] = "strong"


@dataclass(frozen=True)
class Break:
    """A line break between the lines of one cell."""

    kind: ClassVar[str] = "br"


@dataclass(frozen=True)
class Pre:
    """Preformatted text (JSON, as the run recorded it)."""

    text: str
    kind: ClassVar[str] = "pre"


Part = str | Code | Span | Link | Badge | Strong | Break | Pre
Cell = str | list[Part]


def muted(*parts: Part) -> Span:
    return Span("muted", list(parts))


def nw(*parts: Part) -> Span:
    return Span("nw", list(parts))


def lines(*rows: Sequence[Part]) -> list[Part]:
    """The non-empty `rows` as one cell, a line break between them."""
    out: list[Part] = []
    for r in (r for r in rows if r):
        out += [Break(), *r] if out else list(r)
    return out


@dataclass(frozen=True)
class Row:
    """A body row; `note`, when not empty, is a full-width row below it."""

    cells: list[Cell]
    note: Cell = ""

    @property
    def classes(self) -> str:
        """The row's class tokens: ``avg`` for the micro-average (first cell "Average"), ``has-note``."""
        tokens = ["avg"] if self.cells and self.cells[0] == "Average" else []
        return " ".join([*tokens, *(["has-note"] if self.note else [])])


@dataclass(frozen=True)
class Table:
    """A table: `spans` adds a header row above, as (label, columns) pairs; `col_cls[i]` is a class for the
    cells of column i."""

    header: list[str]
    rows: list[Row]
    caption: str | None = None
    spans: list[tuple[str, int]] = field(default_factory=list)
    cls: str = ""
    col_cls: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "table"

    def column_class(self, i: int) -> str:
        return self.col_cls[i] if i < len(self.col_cls) else ""


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    caption: str | None = None,
    spans: Sequence[tuple[str, int]] = (),
    cls: str = "",
    col_cls: Sequence[str] = (),
    notes: Sequence[Cell] = (),
) -> Table:
    """A `Table` from rows of cells; ``notes[i]`` is row i's note."""
    body = [Row(list(r), notes[i] if i < len(notes) else "") for i, r in enumerate(rows)]
    return Table(list(header), body, caption, list(spans), cls, list(col_cls))


@dataclass(frozen=True)
class Figure:
    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class JsonBlock:
    """A value shown as JSON under a small heading (a control's detail that is neither scalar nor a table)."""

    key: str
    text: str
    kind: ClassVar[str] = "json"


def json_text(obj: Any) -> str:
    # Key order is kept as written: the configuration is shown exactly as the run recorded it.
    return json.dumps(obj, indent=2, default=str, ensure_ascii=False)


def kv_table(d: dict[str, Any], caption: str | None = None) -> Table | None:
    """A dict as a key/value table (counts with thousands separators, nested values as JSON); None if empty."""
    if not d:
        return None

    def cell(v: Any) -> Cell:
        if isinstance(v, int) and not isinstance(v, bool):
            return F.count(v)
        return str(v) if isinstance(v, (str, float, bool)) or v is None else [Pre(json_text(v))]

    return table(["key", "value"], [[k, cell(v)] for k, v in d.items()], cls="kv", caption=caption)
