"""The sibling, input-only, snapshot and data-scaling controls and the data-hygiene checks, on scripted models
whose every answer the tests work out by hand (tests/experiments/scripted.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import scripted as S
from test_experiment_modules import CONFIG, EVAL, run

from inward import properties as P
from inward import tasks as T
from inward.experiments import hygiene
from inward.experiments.controls import input_only
from inward.properties.compliance import check_object
from inward.report.results import find_row
from inward.training.datasets import read_dataset, write_dataset

CONTROLS = ["sibling", "input_only", "snapshot", "cross_scaling"]
PROPS = CONFIG["properties"]
N_VAL = CONFIG["sizes"]["eval_items_per_task"]


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fitted: list[list[str]] = []
    real_fit = input_only.TextClassifier.fit

    def recording_fit(self: Any, texts: dict[str, list[str]], labels: dict[str, list[str]]) -> Any:
        fitted.append([x for xs in texts.values() for x in xs])
        return real_fit(self, texts, labels)

    mp = pytest.MonkeyPatch()
    mp.setattr(input_only.TextClassifier, "fit", recording_fit)
    try:
        ws = tmp_path_factory.mktemp("controls")
        results, models, _ = run(
            ws, {**CONFIG, "experiments": ["self_training", "cross_prediction", *CONTROLS]}
        )
    finally:
        mp.undo()
    fits = {f["name"].rsplit("-", 1)[0]: f for f in models.fits}
    tt = models.backend(f"local/alpha+adapter={fits['mods-m1-self']['name']}")
    return {
        "results": results,
        "models": models,
        "fits": fits,
        "tt": tt,
        "data": ws / "runs" / "mods" / "data",
        "fitted": fitted,
        "beh": S.behaviour(tt, EVAL, N_VAL, PROPS),
    }


def _acc(rows: Any) -> tuple[int, int]:
    r = find_row(rows)
    return r.n, r.k


def _by_hand(beh: dict[tuple, str], hits: dict[tuple, bool]) -> tuple[int, int]:
    return len(beh), sum(hits[k] for k in beh)


def train_behaviour(fake: Any, n: int) -> dict[tuple[str, str], dict[str, str]]:
    """The fake's compliant values on the first n train items of each held-out task (draw 0)."""
    out = {}
    for name in EVAL:
        task = T.get(name)
        for item in task.items("train")[:n]:
            raw = S.greedy_answer(fake, task, item)
            if check_object(raw, task.compliance) is not None:
                continue
            vals = {p: P.get(p).extract(P.clean(raw), target=item.target) for p in task.properties}
            out[(name, item.id)] = {p: v for p, v in vals.items() if v is not None}
    return out


# -- sibling ---------------------------------------------------------------------------------------------


def test_the_sibling_is_the_targets_own_base_trained_on_the_cross_set(ctl: dict[str, Any]) -> None:
    f = ctl["fits"]
    sib, seed_sib, cross = f["mods-m1-sibling"], f["mods-m1-sibling-seed1000"], f["mods-m2-cross-m1"]
    assert sib["base"] == seed_sib["base"] == "local/alpha"  # M1's own base, not M2
    assert sib["data"] == seed_sib["data"] == cross["data"]  # the very pairs M2 is trained on
    assert Path(sib["data"]).name == "cross-m1.jsonl"
    assert (sib["seed"], seed_sib["seed"]) == (0, 1000) and sib["init"] is None


def test_sibling_accuracies_match_the_hand_computation(ctl: dict[str, Any]) -> None:
    sec, models, beh = ctl["results"].controls["sibling"], ctl["models"], ctl["beh"]
    assert _acc(sec.self_rows) == _by_hand(beh, {k: S.correct(ctl["tt"], k, v) for k, v in beh.items()})
    for p, label in zip(sec.predictors, ["mods-m1-sibling", "mods-m1-sibling-seed1000"], strict=True):
        fake = models.backend(f"local/alpha+adapter={ctl['fits'][label]['name']}")
        assert _acc(p.rows) == _by_hand(beh, {k: S.correct(fake, k, v) for k, v in beh.items()})
        test = find_row(p.tests)
        assert test.diff == pytest.approx(find_row(sec.self_rows).acc - find_row(p.rows).acc)
    keys = [r.key for r in ctl["results"].evidence.rows]
    assert "sibling:sibling" in keys and "sibling:seed sibling" in keys


# -- input-only ----------------------------------------------------------------------------------------


def test_the_train_split_mode_is_computed_from_train_items_only(ctl: dict[str, Any]) -> None:
    sec = ctl["results"].controls["input_only"]
    train = train_behaviour(ctl["tt"], CONFIG.get("controls", {}).get("context_items", 12))
    counts: dict[tuple[str, str], Counter[str]] = {}
    for (task, _), props in train.items():
        for p, v in props.items():
            counts.setdefault((task, p), Counter())[v.strip().lower()] += 1
    mode = {k: min(c.items(), key=lambda vc: (-vc[1], vc[0]))[0] for k, c in counts.items()}
    mode_row = next(p for p in sec.predictors if p.name == "train-split mode")
    assert mode_row.details["modes"] == {f"{t}/{p}": v for (t, p), v in sorted(mode.items())}
    beh = ctl["beh"]
    hits = {k: mode.get((k[0], k[2])) == v.strip().lower() for k, v in beh.items()}
    assert _acc(mode_row.rows) == _by_hand(beh, hits)


def test_input_only_classifiers_never_see_a_held_out_row(ctl: dict[str, Any]) -> None:
    val = {it.text for name in EVAL for it in T.get(name).items("val")}
    train = {it.text for name in [*EVAL, *CONFIG["train_tasks"]] for it in T.get(name).items("train")}
    assert len(ctl["fitted"]) == 2 and all(ctl["fitted"])
    for texts in ctl["fitted"]:
        assert not set(texts) & val
        assert set(texts) <= train
    # the first classifier is fitted on exactly the cross-predictor's pairs
    rows, _ = read_dataset(ctl["data"] / "cross-m1.jsonl")
    items = {(n, it.id): it.text for n in CONFIG["train_tasks"] for it in T.get(n).items("train")}
    assert sorted(ctl["fitted"][0]) == sorted(
        items[(r["inward"]["task"], r["inward"]["item_id"])] for r in rows
    )
    assert ctl["results"].controls["input_only"].details["val_rows_seen_by_fits"] == 0


def test_a_classifier_predicts_what_it_learnt_on_a_clean_signal() -> None:
    """Not a test of scikit-learn: of our feature choice. Texts starting with a vowel vs not, labels the first
    character's class: character n-grams must separate them."""
    words = ["apple", "otter", "ibis", "umbra", "eel", "zebra", "crow", "newt", "lynx", "kiwi"]
    labels = ["true" if w[0] in "aeiou" else "false" for w in words]
    clf = input_only.TextClassifier().fit({"starts_with_vowel": words * 3}, {"starts_with_vowel": labels * 3})
    assert clf.predict("starts_with_vowel", ["apple", "zebra"]) == ["true", "false"]
    assert clf.predict("first_word", ["x"]) is None  # no model: the caller falls back to the mode
    one = input_only.TextClassifier().fit({"is_even": ["1", "3"]}, {"is_even": ["odd", "odd"]})
    assert one.predict("is_even", ["8"]) == ["odd"]


# -- snapshot asymmetry ---------------------------------------------------------------------------------


def test_the_untrained_snapshot_cross_set_has_the_untrained_targets_labels(ctl: dict[str, Any]) -> None:
    models = ctl["models"]
    base = models.backend("local/alpha")
    new, _ = read_dataset(ctl["data"] / "cross-m1-untrained.jsonl")
    old, _ = read_dataset(ctl["data"] / "cross-m1.jsonl")
    for rows, fake in ((new, base), (old, ctl["tt"])):
        for r in rows:
            task = T.get(r["inward"]["task"])
            item = next(it for it in task.items("train") if it.id == r["inward"]["item_id"])
            raw = S.greedy_answer(fake, task, item)
            assert r["messages"][-1]["content"] == P.get(r["inward"]["property"]).extract(
                P.clean(raw), target=item.target
            )
    sec = ctl["results"].controls["snapshot"]
    assert [p.claim for p in sec.predictors] == [False, True]
    assert ctl["fits"]["mods-m2-cross-m1-untrained"]["data"].endswith("cross-m1-untrained.jsonl")
    # the share of held-out behaviour self-training changed, by hand
    before, after = S.behaviour(base, EVAL, N_VAL, PROPS), ctl["beh"]
    both = set(before) & set(after)
    changed = sum(before[k].strip().lower() != after[k].strip().lower() for k in both)
    got = sec.details["held_out_changed_by_self_training"]
    assert (got["n_compared"], got["n_changed"]) == (len(both), changed)


# -- data scaling ------------------------------------------------------------------------------------------


def test_scaling_trains_on_stratified_subsets_of_the_cross_set(ctl: dict[str, Any]) -> None:
    full, _ = read_dataset(ctl["data"] / "cross-m1.jsonl")
    by: Counter[str] = Counter(f"{r['inward']['task']}/{r['inward']['property']}" for r in full)
    rows_full = {json.dumps(r, sort_keys=True) for r in full}
    for share in (0.25, 0.5):
        f = ctl["fits"][f"mods-m2-cross-m1-{round(share * 100)}pct"]
        sub, manifest = read_dataset(f["data"])
        got = Counter(f"{r['inward']['task']}/{r['inward']['property']}" for r in sub)
        assert got == {k: max(1, round(v * share)) for k, v in by.items()}
        assert {json.dumps(r, sort_keys=True) for r in sub} <= rows_full
        assert manifest["share"] == share and f["base"] == "local/beta"
    sec = ctl["results"].controls["cross_scaling"]
    curve = sec.details["accuracy_by_share"]["m2"]
    assert set(curve) == {"0.25", "0.5", "1"}
    cp = ctl["results"].cross_prediction.targets[0].cross[0]
    assert curve["1"] == pytest.approx(find_row(cp.rows).acc)  # the 100% predictor is cross-prediction's own


# -- data hygiene ------------------------------------------------------------------------------------------


def test_self_sets_use_each_item_in_one_property_only(ctl: dict[str, Any]) -> None:
    rows, manifest = read_dataset(ctl["data"] / "m1-self.jsonl")
    per_item = Counter((r["inward"]["task"], r["inward"]["item_id"]) for r in rows)
    assert max(per_item.values()) == 1 and manifest["dedup"] == "across properties"


def test_every_run_reports_its_hygiene_checks(ctl: dict[str, Any]) -> None:
    checks = {c.check: c for c in ctl["results"].hygiene}
    leak = checks["no held-out prompt in any training set"]
    assert leak.ok and leak.detail.startswith("0 of ")


def test_the_leak_check_catches_a_held_out_prompt_in_a_training_file(tmp_path: Path) -> None:
    task = T.get("animals_long")
    val_item, train_item = task.items("val")[0], task.items("train")[0]

    def row(item: T.Item, prop: str) -> dict[str, Any]:
        return {
            "messages": [{"role": "user", "content": item.text}, {"role": "assistant", "content": "x"}],
            "inward": {"task": task.name, "item_id": item.id, "property": prop, "kind": "self"},
        }

    write_dataset([row(train_item, "first_word")], tmp_path / "clean.jsonl", {"dedup": "across properties"})
    checks = hygiene.check(tmp_path, ["animals_long"], 5)
    assert all(c.ok for c in checks)
    write_dataset(
        [row(val_item, "first_word"), row(train_item, "first_word"), row(train_item, "second_character")],
        tmp_path / "dirty.jsonl",
        {"dedup": "across properties"},
    )
    leak, shared = hygiene.check(tmp_path, ["animals_long"], 5)
    assert not leak.ok and "1 of 4 training rows" in leak.detail and val_item.id in leak.detail
    assert not shared.ok and "dirty.jsonl: 1 items" in shared.detail
    # a val item beyond those any number reads is not a held-out prompt of this run
    assert hygiene.check(tmp_path, ["survival_instinct"], 5)[0].ok


def test_a_run_that_extends_another_trains_only_what_is_new(tmp_path: Path) -> None:
    """The controls profile after the demo: same run name, more experiments; the demo's models are reused
    (while their files are there), so only the sibling is trained."""
    first, m1, _ = run(tmp_path, {**CONFIG, "experiments": ["self_training", "cross_prediction"]})
    for f in m1.fits:  # the scripted trainer writes no files; a local trainer would have
        (tmp_path / "models" / f["name"]).mkdir(parents=True, exist_ok=True)
    second, m2, _ = run(tmp_path, {**CONFIG, "experiments": ["self_training", "cross_prediction", "sibling"]})
    assert sorted(f["name"].rsplit("-", 1)[0] for f in m2.fits) == [
        "mods-m1-sibling",
        "mods-m1-sibling-seed1000",
    ]
    assert second.cross_prediction == first.cross_prediction
    # a model whose files are gone is trained again
    import shutil

    for f in m2.fits:
        (tmp_path / "models" / f["name"]).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(tmp_path / "models" / next(f["name"] for f in m1.fits if "m1-self" in f["name"]))
    _, m3, _ = run(tmp_path, {**CONFIG, "experiments": ["self_training", "cross_prediction", "sibling"]})
    assert [f["name"].rsplit("-", 1)[0] for f in m3.fits] == ["mods-m1-self"]


def test_the_plan_counts_shots_in_context_as_longer_prompts(tmp_path: Path) -> None:
    """A hypothetical after k shots costs 1 + 0.3 k plain ones: the shots, the same for every prompt of a task
    and property, are prefilled once per batch (69 s measured for k = 2 against 44 s for the same plain
    hypotheticals of SmolLM2 on the cpu demo)."""
    from inward.experiments.config import ExperimentConfig
    from inward.experiments.plan import make_plan

    cfg = {**CONFIG, "experiments": ["self_training", "in_context"], "controls": {"in_context_k": [0, 4]}}
    plan = make_plan(ExperimentConfig.model_validate(cfg), tmp_path, models=S.ScriptedModels)
    meta = {s.name: s.rows for s in plan.steps if s.kind == "hypothetical" and s.experiment == "in_context"}
    plain = next(v for k, v in meta.items() if "shots0" in k)
    four = next(v for k, v in meta.items() if "shots4" in k)
    assert plain > 0 and four == round(2.2 * plain)
