"""`inward store ls | show | rm` and `inward export` on a workspace filled by `inward object` / `meta` with
scripted models (tests/experiments/scripted.py): nothing is installed or loaded; counts follow from the flags."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
import scripted as S
import workspace_rows as W

from inward.cli import main
from inward.store import Store, export

M1, M2 = "local/qwen2.5-0.5b", "local/smollm2-135m"
TASK = "animals_long"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`cli(*args, stdin="")` → (exit code, stdout, stderr) in a fresh workspace, with scripted models."""
    import inward.backends
    import inward.backends.registry

    plain = S.ScriptedModels(None)
    monkeypatch.setattr(inward.backends, "make_backend", lambda ref, **kw: plain.backend(str(ref)))
    monkeypatch.setattr(inward.backends.registry, "identify", lambda ref, **kw: plain.identify(str(ref)))
    ws = tmp_path / "ws"

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            main(["--workspace", str(ws), *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    run.workspace = ws  # type: ignore[attr-defined]
    run.ident = plain.identify  # type: ignore[attr-defined]
    return run


@pytest.fixture
def filled(cli: Any) -> Any:
    """M1: 12 object rows and 12 x 8 hypothetical rows on animals_long val; M2: 6 object rows."""
    assert cli("object", "-m", M1, "-t", TASK, "--limit", "12")[0] == 0
    assert cli("hypothetical", "-m", M1, "-t", TASK, "--limit", "12")[0] == 0
    assert cli("object", "-m", M2, "-t", TASK, "--limit", "6")[0] == 0
    return cli


def _hypothetical_by_property(ws: Path, key: str) -> dict[str, int]:
    """The hand count: M1's hypothetical rows per property, read straight from the store."""
    with Store.open(ws) as store:
        return store.hypothetical_rows(model_id=key).groupby("property").size().to_dict()


def _rows(ws: Path, key: str) -> dict[str, list[tuple[Any, ...]]]:
    with Store.open(ws) as store:
        conn = store._conn()
        return {
            t: conn.execute(f"SELECT * FROM {t} WHERE model_id = ? ORDER BY rowid", (key,)).fetchall()
            for t in ("object_rows", "hypothetical_rows", "distributions")
        }


def test_store_ls_lists_models_with_their_counts(filled: Any) -> None:
    code, out, _ = filled("store", "ls", "--json")
    assert code == 0
    got = {m["labels"][0]: (m["key"], m["kind"], m["rows"]) for m in json.loads(out)["models"]}
    k1, k2 = filled.ident(M1).key, filled.ident(M2).key
    n_hypothetical = sum(_hypothetical_by_property(filled.workspace, k1).values())
    assert 12 <= n_hypothetical <= 12 * 8  # asked per defined property of a compliant answer; 8 properties
    assert got == {
        M1: (k1, "base", {"object_rows": 12, "hypothetical_rows": n_hypothetical, "distributions": 0}),
        M2: (k2, "base", {"object_rows": 6, "hypothetical_rows": 0, "distributions": 0}),
    }
    code, out, _ = filled("store", "ls")
    assert code == 0 and M1 in out and k1 in out and "object_rows" in out and "on disk: database" in out


def test_store_show_counts_by_task_split_and_property(filled: Any) -> None:
    code, out, _ = filled("store", "show", M1, "--json")
    assert code == 0
    counts = json.loads(out)["counts"]
    obj = [(c["task"], c["split"], c["config"], c["rows"]) for c in counts if c["table"] == "object_rows"]
    assert obj == [(TASK, "val", "greedy", 12)]
    meta = {c["property"]: c["rows"] for c in counts if c["table"] == "hypothetical_rows"}
    assert meta == _hypothetical_by_property(filled.workspace, filled.ident(M1).key) and len(meta) == 8
    code, out, _ = filled("store", "show", M1)
    assert code == 0 and f"model {filled.ident(M1).key}" in out and "greedy" in out


def test_store_rm_answered_no_changes_nothing(filled: Any) -> None:
    ws, k1, k2 = filled.workspace, filled.ident(M1).key, filled.ident(M2).key
    before = (_rows(ws, k1), _rows(ws, k2))
    code, out, _ = filled("store", "rm", M1, stdin="n\n")
    assert code == 0 and "object_rows: 12 object-level rows" in out and "nothing removed" in out
    assert (_rows(ws, k1), _rows(ws, k2)) == before


def test_store_rm_yes_removes_one_model_and_not_the_other(filled: Any) -> None:
    ws, k1, k2 = filled.workspace, filled.ident(M1).key, filled.ident(M2).key
    other = _rows(ws, k2)
    n_hypothetical = sum(_hypothetical_by_property(ws, k1).values())
    code, out, _ = filled("store", "rm", M1, "--yes")
    assert code == 0 and f"removed {12 + n_hypothetical} rows" in out
    assert _rows(ws, k1) == {"object_rows": [], "hypothetical_rows": [], "distributions": []}
    assert _rows(ws, k2) == other  # byte-identical
    code, out, _ = filled("store", "rm", M2, stdin="y\n")
    assert code == 0 and "removed 6 rows" in out


def test_store_rm_of_a_run_removes_its_folder(cli: Any) -> None:
    W.build(cli.workspace).close()
    code, out, _ = cli("store", "rm", "demo", "-y")
    assert code == 0 and "removed 6 rows (3 steps, 1 runs, 1 models, 1 object_rows) and 2 folder(s)" in out
    assert not (cli.workspace / "runs" / "demo").exists() and (cli.workspace / "runs" / "other").is_dir()


def test_export_scored_equals_the_table_inward_score_computes(filled: Any, tmp_path: Path) -> None:
    from inward.runs.score import scored_table

    code, out, err = filled("export", "scored", "-m", M1, "-o", str(tmp_path / "scored.parquet"))
    assert code == 0, err
    with Store.open(filled.workspace) as store:
        want = scored_table(store, object_model=M1, hypothetical_model=M1, tasks=[TASK])
    got = pd.read_parquet(tmp_path / "scored.parquet")
    assert f"exported {len(want)} scored rows" in out and len(want) > 0
    assert set(got["object_model_id"]) == {filled.ident(M1).key} and set(got["hypothetical_model"]) == {M1}
    want = export.tabular(want, "parquet")
    pd.testing.assert_frame_equal(
        got[list(want.columns)].astype(object).where(got.notna(), None),
        want.astype(object).where(want.notna(), None),
        check_dtype=False,
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "datasets"])
def test_export_object_rows_round_trip(filled: Any, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "m2"
    code, text, err = filled(
        "export", "object", "-m", M2, "-t", TASK, "--split", "val", "-o", str(out), "--format", fmt
    )
    assert code == 0, err and "exported 6 object rows" in text
    with Store.open(filled.workspace) as store:
        want = export.tabular(store.object_rows(model_id=filled.ident(M2).key), fmt)  # type: ignore[arg-type]
    got = export.read_export(out, fmt)  # type: ignore[arg-type]
    assert len(got) == 6 and list(got["item_id"]) == list(want["item_id"])
    assert [json.loads(p) for p in got["properties"]] == [json.loads(p) for p in want["properties"]]


def test_export_training_to_datasets(filled: Any, tmp_path: Path) -> None:
    data = tmp_path / "self.jsonl"
    code, _, err = filled(
        "dataset", "build", "self", "-m", M1, "-t", "colors_long", "-p", "first_word",
        "--per-combo", "5", "--items-per-task", "12", "-o", str(data),
    )  # fmt: skip
    assert code == 0, err
    n = len(data.read_text().splitlines())
    code, out, err = filled(
        "export", "training", "--data", str(data), "-o", str(tmp_path / "ds"), "--format", "datasets"
    )
    assert code == 0, err and f"exported {n} training rows" in out
    from datasets import load_from_disk

    ds = load_from_disk(str(tmp_path / "ds"))
    first = json.loads(data.read_text().splitlines()[0])
    assert len(ds) == n and ds[0]["messages"] == first["messages"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("store", "show", "local/nope"), "no model 'local/nope'"),
        (("store", "rm", "local/nope", "-y"), "no model 'local/nope'"),
        (("store", "rm", "nope", "--kind", "run", "-y"), "no run 'nope'"),
        (("export", "objekt", "-o", "x.csv"), "unknown table 'objekt'"),
        (("export", "object", "-m", "local/nope", "-o", "x.csv"), "no model 'local/nope'"),
        (("export", "training", "-o", "x.csv"), "pass --data FILE.jsonl"),
        (("export", "object", "-o", "x.txt"), "cannot tell the format of x.txt"),
    ],
)
def test_bad_input_gives_one_clear_line(filled: Any, args: tuple[str, ...], message: str) -> None:
    code, _, err = filled(*args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_export_to_an_unwritable_path_is_one_line(filled: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = filled("export", "object", "-o", str(tmp_path / "file" / "x.csv"))
    assert code == 2 and "is a file, not a folder" in err and len(err.strip().splitlines()) == 1
