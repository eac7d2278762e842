"""inward.store.export: tables and training sets to CSV / Parquet / datasets, read back equal, atomically."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workspace_rows as W

from inward.errors import UserError
from inward.store import Store, export


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with W.build(tmp_path / "ws") as s:
        yield s


def _as_csv_text(df: pd.DataFrame) -> pd.DataFrame:
    """What CSV can hold of a table: every cell as text, missing as empty."""
    return df.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))


def _nulls(df: pd.DataFrame) -> pd.DataFrame:
    """One missing marker (None) for NaN and None alike."""
    return df.astype(object).where(df.notna(), None)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "datasets"])
@pytest.mark.parametrize("table", ["object", "hypothetical", "distributions"])
def test_a_table_reads_back_equal(store: Store, tmp_path: Path, fmt: str, table: str) -> None:
    out = tmp_path / f"out.{fmt}"
    res = export.export_table(store, table, out, format=fmt)
    want = export.tabular(export.table_frame(store, table), fmt)  # type: ignore[arg-type]
    got = export.read_export(out, fmt)  # type: ignore[arg-type]
    assert res.rows == len(want) == {"object": 9, "hypothetical": 4, "distributions": 1}[table]
    assert list(got.columns) == list(want.columns) == list(res.columns)
    if fmt == "csv":
        pd.testing.assert_frame_equal(got, _as_csv_text(want), check_dtype=False)
    else:
        pd.testing.assert_frame_equal(_nulls(got), _nulls(want), check_dtype=False)


def test_json_cells_are_json_text(store: Store, tmp_path: Path) -> None:
    export.export_table(store, "distributions", tmp_path / "d.parquet")
    got = pd.read_parquet(tmp_path / "d.parquet")
    assert json.loads(got["probs"][0]) == {"c": 0.25, "d": 0.75}
    export.export_table(store, "object", tmp_path / "o.csv", model="local/m2")
    rows = pd.read_csv(tmp_path / "o.csv")
    assert [json.loads(p) for p in rows["properties"]] == [
        {"first_character": "d", "starts_with_vowel": False}
    ] * 2


def test_filters_by_model_task_and_split(store: Store, tmp_path: Path) -> None:
    def n(**kw: object) -> int:
        return export.export_table(store, "object", tmp_path / "o.parquet", **kw).rows  # type: ignore[arg-type]

    assert n(model="local/m1") == 6
    assert n(model="local/m1", split="val") == 4
    assert n(model="local/m1", task="animals", split="val") == 3
    assert n(task=["animals", "colors"], split="train") == 2
    assert n(model=W.ADAPTER) == 1
    assert export.export_table(store, "meta", tmp_path / "m.csv", model="k-m2").rows == 1


def test_a_training_set_goes_to_a_datasets_folder_with_messages_nested(tmp_path: Path) -> None:
    rows = [
        {
            "messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
            "inward": {"task": "animals", "item_id": f"i{i}", "property": "first_character"},
        }
        for i in range(3)
    ]
    data = tmp_path / "self.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = export.export_training(data, tmp_path / "self-ds", format="datasets")
    from datasets import load_from_disk

    ds = load_from_disk(str(tmp_path / "self-ds"))
    assert res.rows == len(ds) == 3
    assert ds[1]["messages"] == rows[1]["messages"]  # what chat trainers read
    assert [json.loads(x) for x in ds["inward"]] == [r["inward"] for r in rows]
    export.export_training(data, tmp_path / "self.csv")
    back = export.read_export(tmp_path / "self.csv", "csv")
    assert [json.loads(m) for m in back["messages"]] == [r["messages"] for r in rows]
    pq = export.export_training(data, tmp_path / "self.parquet")
    got = pd.read_parquet(pq.path)
    assert [list(map(dict, m)) for m in got["messages"]] == [r["messages"] for r in rows]


def test_a_failed_write_never_replaces_a_good_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rows.parquet"
    export.export_table(store, "object", out)
    good = out.read_bytes()

    def half(self: pd.DataFrame, path: Path, **kw: object) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half)
    with pytest.raises(UserError, match=r"cannot write .*rows.parquet \(No space left on device\)"):
        export.export_table(store, "object", out)
    assert out.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "rows.parquet"
    ]


def test_a_datasets_export_replaces_an_older_one_whole(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    export.export_table(store, "object", out, format="datasets")
    export.export_table(store, "object", out, format="datasets", model="local/m2")
    assert len(export.read_export(out, "datasets")) == 2  # the second export, not a mix of both
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "ws"]


def test_bad_input_gives_one_clear_line(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown table 'objects'; choose one of: object, hypothetical"):
        export.export_table(store, "objects", tmp_path / "x.csv")
    with pytest.raises(UserError, match="no model 'local/nope'"):
        export.export_table(store, "object", tmp_path / "x.csv", model="local/nope")
    with pytest.raises(UserError, match=r"cannot tell the format of .*x.txt"):
        export.export_table(store, "object", tmp_path / "x.txt")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UserError, match="a-file is a file, not a folder"):
        export.export_table(store, "object", blocker / "x.csv")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not a saved dataset"):
        export.export_table(store, "object", tmp_path / "notes", format="datasets")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    with pytest.raises(UserError, match="no object rows match model=local/m2, task=\\['colors'\\]"):
        export.export_table(store, "object", tmp_path / "x.csv", model="local/m2", task="colors")
    with pytest.raises(UserError, match="distributions have no split"):
        export.export_table(store, "distributions", tmp_path / "x.csv", split="val")
    with pytest.raises(UserError, match="needs --model"):
        export.export_table(store, "scored", tmp_path / "x.csv")
