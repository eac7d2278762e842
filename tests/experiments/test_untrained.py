"""The untrained experiment on scripted models: every number by hand, no training, and evidence rows per pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import scripted as S
from test_pipeline_scripted import CONFIG, EVAL, N_EVAL, PROPS, assert_same, run

M1, M2 = "local/alpha", "local/beta"


def _run(tmp_path: Path, **over: Any) -> tuple[Any, S.ScriptedModels]:
    return run(tmp_path / "ws", {**CONFIG, "experiments": ["untrained"], **over})


def test_self_and_cross_without_training_by_hand(tmp_path: Path) -> None:
    results, models = _run(tmp_path)
    assert models.fits == []  # nothing trained
    section = results.other["untrained"]
    fake = {m: models.backend(m) for m in (M1, M2)}
    beh = {m: S.behaviour(f, EVAL, N_EVAL, PROPS) for m, f in fake.items()}
    selfs = {m["model"]: m for m in section["models"]}
    for m in (M1, M2):
        got = {r["group"]: (r["n"], r["k"], r["baseline"]) for r in selfs[m]["rows"]}
        assert_same(got, S.prediction_table(beh[m], fake[m], sorted(beh[m])))
    pairs = {(p["target"], p["predictor"]): p for p in section["pairs"]}
    assert set(pairs) == {(M1, M2), (M2, M1)}  # both directions by default
    for target, predictor in pairs:
        p = pairs[(target, predictor)]
        keys = sorted(beh[target])
        want_self = S.prediction_table(beh[target], fake[target], keys)
        want_cross = S.prediction_table(beh[target], fake[predictor], keys)
        assert_same({r["group"]: (r["n"], r["k"], r["baseline"]) for r in p["self_rows"]}, want_self)
        assert_same({r["group"]: (r["n"], r["k"], r["baseline"]) for r in p["cross_rows"]}, want_cross)
        avg = next(t for t in p["tests"] if t["group"] == "average")
        n, k_self, _ = want_self["average"]
        assert avg["diff"] == (k_self - want_cross["average"][1]) / n
    rows = {r.key: r for r in results.evidence.rows}
    assert {f"untrained:{M1}:{M2}", f"untrained:{M2}:{M1}"} <= set(rows)
    assert rows[f"untrained:{M1}:{M2}"].verdict in ("supports", "contradicts", "inconclusive", "underpowered")


def test_the_configured_pairs_only(tmp_path: Path) -> None:
    results, _ = _run(tmp_path, cross_pairs=[["m1", "m2"]])
    section = results.other["untrained"]
    assert [(p["target"], p["predictor"]) for p in section["pairs"]] == [(M1, M2)]
    assert [r.key for r in results.evidence.rows if r.key.startswith("untrained:")] == [
        f"untrained:{M1}:{M2}"
    ]
