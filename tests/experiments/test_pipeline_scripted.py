"""Every headline number of every experiment, on scripted models (M1 ≠ M2), against a hand computation.

The pipeline runs for real (datasets, steps, store, analyses, results.json) over `ScriptedModels`: fakes whose
answers the test can work out (tests/experiments/scripted.py). The hand computation never calls inward's
metrics: it recomputes each model's answers, marks them, counts. Swapping M1 and M2 or losing a property
group changes these numbers (the swap and alias tests below), so a role swap or a silent drop fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import scripted as S

from inward.experiments.config import ExperimentConfig
from inward.experiments.pipeline import Pipeline

EVAL = ["animals_long", "mmlu_non_cot", "survival_instinct"]
PROPS = ["first_word", "second_character", "among_a_or_c", "ethical_stance"]
N_EVAL, N_CAL = 30, 14

CONFIG: dict[str, Any] = {
    "name": "scripted",
    "models": {"m1": "local/alpha", "m2": "local/beta"},
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": EVAL,
    # an alias: the among_options group must not be lost (it is stored as among_a_or_c)
    "properties": ["first_word", "second_character", "is_either_a_or_c", "ethical_stance"],
    "collateral_tasks": [],
    "sizes": {
        "train_items_per_task": 24,
        "per_combo": 10,
        "eval_items_per_task": N_EVAL,
        "calibration_items": N_CAL,
        "shift_rows": 16,
    },
    "calibration": [
        {"task": "animals_long", "property": "second_character"},
        {"task": "mmlu_non_cot", "property": "is_either_a_or_c"},
    ],
}


def run(ws: Path, config: dict[str, Any]) -> tuple[Any, S.ScriptedModels]:
    holder: dict[str, S.ScriptedModels] = {}

    def models(store: Any) -> S.ScriptedModels:
        holder["m"] = S.ScriptedModels(store)
        return holder["m"]

    pipe = Pipeline(ExperimentConfig.model_validate(config), ws, progress=False, models=models)
    results = pipe.run()
    return results, holder["m"]


def as_table(rows: list[Any]) -> dict[str, tuple[int, int, float]]:
    return {r.group: (r.n, r.k, r.baseline) for r in rows}


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for g, (n, k, base) in want.items():
        assert got[g][:2] == (n, k), g
        assert got[g][2] == pytest.approx(base, abs=1e-12), g


def expected(models: S.ScriptedModels, m1: str, m2: str) -> dict[str, Any]:
    """All headline numbers, by hand, for the run whose M1 is `m1` and M2 is `m2`."""
    fits = {f["name"].rsplit("-", 1)[0]: f["name"] for f in models.fits}
    fake = {
        "m1": models.backend(m1),
        "m2": models.backend(m2),
        "m1t": models.backend(f"{m1}+adapter={fits['scripted-m1-self']}"),
        "m2c": models.backend(f"{m2}+adapter={fits['scripted-m2-cross-m1']}"),
        "mc": models.backend(f"{m1}+adapter={fits['scripted-m1-shifted']}"),
    }
    beh = {k: S.behaviour(f, EVAL, N_EVAL, PROPS) for k, f in fake.items()}
    out: dict[str, Any] = {}
    # Self-training: untrained M1 vs self-trained M1, each predicting itself, on the prompts both have.
    both = sorted(set(beh["m1"]) & set(beh["m1t"]))
    out["untrained"] = S.prediction_table(beh["m1"], fake["m1"], both)
    out["trained"] = S.prediction_table(beh["m1t"], fake["m1t"], both)
    # Cross-prediction: M1t predicting itself vs M2 (trained on M1t's behaviour) predicting M1t.
    keys = sorted(beh["m1t"])
    out["self"] = S.prediction_table(beh["m1t"], fake["m1t"], keys)
    out["cross"] = S.prediction_table(beh["m1t"], fake["m2c"], keys)
    # Calibration MAD per panel and condition.
    out["mad"] = {
        (task, prop): {
            "self-trained": S.calibration_mad(fake["m1t"], fake["m1t"], task, prop, N_CAL),
            "cross-trained": S.calibration_mad(fake["m1t"], fake["m2c"], task, prop, N_CAL),
            "untrained": S.calibration_mad(fake["m1"], fake["m1"], task, prop, N_CAL),
        }
        for task, prop in [("animals_long", "second_character"), ("mmlu_non_cot", "among_a_or_c")]
    }
    # Behaviour change: prompts whose value changed from M1t to MC; MC's hypotheticals vs old / new values.
    shifted = sorted(
        k for k in set(beh["m1t"]) & set(beh["mc"]) if beh["m1t"][k].lower() != beh["mc"][k].lower()
    )
    old = {k: beh["m1t"][k] for k in shifted}
    new = {k: beh["mc"][k] for k in shifted}
    out["change"] = {
        g: (n, k_old, k_new)
        for (g, (n, k_old, _)), (_, (_, k_new, _)) in zip(
            S.table({k: S.correct(fake["mc"], k, v) for k, v in old.items()}, old).items(),
            S.table({k: S.correct(fake["mc"], k, v) for k, v in new.items()}, new).items(),
            strict=True,
        )
    }
    keep_old, keep_new = S.entropy_matched(old, new)
    out["matched"] = {
        "old": (len(keep_old), sum(S.correct(fake["mc"], k, old[k]) for k in keep_old)),
        "new": (len(keep_new), sum(S.correct(fake["mc"], k, new[k]) for k in keep_new)),
    }
    return out


def actual(results: Any) -> dict[str, Any]:
    st = results.self_training.models[0]
    cp = results.cross_prediction.targets[0]
    bc = results.behaviour_change
    avg_adj = next(r for r in bc.entropy_matched if r.group == "average")
    return {
        "untrained": as_table(st.untrained),
        "trained": as_table(st.trained),
        "self": as_table(cp.self_rows),
        "cross": as_table(cp.cross[0].rows),
        "mad": {
            (p.task, p.property): {c.label: c.mad for c in p.conditions} for p in results.calibration.panels
        },
        "change": {r.group: (r.n, round(r.acc_old * r.n), round(r.acc_new * r.n)) for r in bc.rows},
        "matched_acc": (avg_adj.acc_old, avg_adj.acc_new),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = {}
    for label, (m1, m2) in {"ab": ("local/alpha", "local/beta"), "ba": ("local/beta", "local/alpha")}.items():
        cfg = {**CONFIG, "models": {"m1": m1, "m2": m2}}
        results, models = run(tmp_path_factory.mktemp(label), cfg)
        out[label] = {"results": results, "models": models, "want": expected(models, m1, m2)}
        out[label]["got"] = actual(results)
    return out


@pytest.mark.parametrize("label", ["ab", "ba"])
def test_every_headline_number_matches_the_hand_computation(runs: dict[str, Any], label: str) -> None:
    got, want = runs[label]["got"], runs[label]["want"]
    for part in ("untrained", "trained", "self", "cross"):
        assert_same(got[part], want[part])
    assert got["mad"].keys() == want["mad"].keys()
    for panel, conds in want["mad"].items():
        assert got["mad"][panel] == pytest.approx(conds, abs=1e-9), panel
    assert got["change"] == want["change"]
    (n_old, k_old), (n_new, k_new) = want["matched"]["old"], want["matched"]["new"]
    assert n_old == n_new > 0
    assert got["matched_acc"] == pytest.approx((k_old / n_old, k_new / n_new), abs=1e-12)


def test_the_numbers_are_role_sensitive(runs: dict[str, Any]) -> None:
    """Swapping M1 and M2 changes every experiment's numbers, so a role swap inside the pipeline (M2's
    behaviour scored as M1's, or the wrong model asked) cannot pass the test above."""
    ab, ba = runs["ab"]["want"], runs["ba"]["want"]
    for part in ("untrained", "trained", "self", "cross", "change"):
        assert ab[part] != ba[part], part
    assert ab["mad"] != ba["mad"]
    assert ab["matched"] != ba["matched"]


def test_no_property_group_is_dropped(runs: dict[str, Any]) -> None:
    """The config names among_a_or_c by its alias is_either_a_or_c; its group is scored in every table,
    with the count the hand computation finds (a dropped group would change the average too)."""
    for label in ("ab", "ba"):
        got = runs[label]["got"]
        for part in ("untrained", "trained", "self", "cross"):
            assert set(got[part]) == {
                "among_options",
                "ethical_stance",
                "first_word",
                "second_character",
                "average",
            }
            assert got[part]["among_options"][0] > 0
        assert ("mmlu_non_cot", "among_a_or_c") in got["mad"]


def test_the_cross_predictor_is_trained_on_the_self_trained_m1s_behaviour(runs: dict[str, Any]) -> None:
    fits = {f["name"].rsplit("-", 1)[0]: f for f in runs["ab"]["models"].fits}
    assert fits["scripted-m1-self"]["base"] == "local/alpha"
    assert fits["scripted-m2-cross-m1"]["base"] == "local/beta"
    assert fits["scripted-m1-shifted"]["init"] == fits["scripted-m1-self"]["name"]


def test_changing_the_learning_rate_retrains_and_reevaluates(tmp_path: Path) -> None:
    """Issue 13's must-show on scripted models: only training.m1.lr changes; the re-run trains a new adapter
    (a new name, no deletion needed), asks it afresh, and every number is the new adapter's, never the old's."""
    from inward.store import Store

    first, models_1 = run(tmp_path, CONFIG)
    changed = {**CONFIG, "training": {"m1": {"lr": 5e-4}}}
    second, models_2 = run(tmp_path, changed)
    name_1 = next(f["name"] for f in models_1.fits if f["name"].startswith("scripted-m1-self"))
    name_2 = next(f["name"] for f in models_2.fits if f["name"].startswith("scripted-m1-self"))
    assert name_1 != name_2 and models_2.salts[name_2] != models_1.salts[name_1]
    # A new run id asks each training step again (a finished adapter is returned at once by a real trainer);
    # the adapters whose inputs changed get new names, the one whose inputs did not keeps its own.
    before = {f["name"] for f in models_1.fits}
    renamed = sorted(f["name"].rsplit("-", 1)[0] for f in models_2.fits if f["name"] not in before)
    assert renamed == [
        "scripted-m1-cross-m2",  # M1 trained on M2's behaviour with the changed M1 plan
        "scripted-m1-self",
        "scripted-m1-shifted",
        "scripted-m2-cross-m1",  # M2's cross training depends on M1t's behaviour: redone too
    ]
    kept = [f["name"] for f in models_2.fits if f["name"] in before]
    assert [k.rsplit("-", 1)[0] for k in kept] == ["scripted-m2-self"]
    new_id = models_2.identify(f"local/alpha+adapter={name_2}").key
    old_id = models_1.identify(f"local/alpha+adapter={name_1}").key
    with Store.open(tmp_path) as store:
        ids = set(store.object_rows(split="val")["model_id"])
    assert {new_id, old_id} <= ids
    want = expected(models_2, "local/alpha", "local/beta")
    got = actual(second)
    for part in ("trained", "self", "cross"):
        assert_same(got[part], want[part])
    assert actual(first)["trained"] != got["trained"]
    assert_same(got["untrained"], want["untrained"])  # on the prompts the new adapter shares with M1


class PartialFake(S.FakeBackend):
    """Object-level distributions that cover 90% of the mass, 20 points of it non-compliant (refusals)."""

    def distribution(self, prompts: Any, resolve: Any, **kw: Any) -> list[Any]:
        from inward.backends.base import Distribution
        from inward.runs.distributions import NONCOMPLIANT_KEY

        out = []
        for d, msgs in zip(super().distribution(prompts, resolve, **kw), prompts, strict=True):
            if S.SEPARATOR in msgs[-1]["content"] or not d.probs:
                out.append(d)
                continue
            (value,) = d.probs
            probs = (
                {NONCOMPLIANT_KEY: 0.2} if value == NONCOMPLIANT_KEY else {value: 0.7, NONCOMPLIANT_KEY: 0.2}
            )
            out.append(Distribution(probs=probs, covered=0.9))
        return out


class PartialModels(S.ScriptedModels):
    def backend(self, ref: str) -> S.FakeBackend:
        return PartialFake(ref, salt=self.salt(ref))


def test_calibration_drops_noncompliant_mass_and_flags_low_coverage(tmp_path: Path) -> None:
    cfg = {**CONFIG, "experiments": ["calibration"]}
    pipe = Pipeline(ExperimentConfig.model_validate(cfg), tmp_path, progress=False, models=PartialModels)
    results = pipe.run()
    for panel in results.calibration.panels:
        assert panel.low_coverage and panel.coverage_floor == 0.97
        for cond in panel.conditions:
            assert cond.object_coverage == pytest.approx(0.9) and cond.low_coverage
            assert cond.object_noncompliant == pytest.approx(0.2)  # reported, and not counted as a value
            assert cond.hypothetical_coverage == pytest.approx(1.0)
    # Renormalised over the compliant mass (0.7 of 0.7), every point is still (1, hit): the MAD is unchanged.
    fits = {f["name"].rsplit("-", 1)[0]: f["name"] for f in pipe.models.fits}  # type: ignore[attr-defined]
    m1t = pipe.models.backend(f"local/alpha+adapter={fits['scripted-m1-self']}")
    mad = {(p.task, p.property): {c.label: c.mad for c in p.conditions} for p in results.calibration.panels}
    want = S.calibration_mad(m1t, m1t, "animals_long", "second_character", N_CAL)
    assert mad[("animals_long", "second_character")]["self-trained"] == pytest.approx(want)


def test_a_dropped_property_does_not_pass_the_hand_check(tmp_path: Path) -> None:
    """Losing one property's rows (as an alias mismatch used to) changes the tables, so the hand check above
    would catch it: delete the stored hypotheticals of among_a_or_c and analyse again."""
    import sqlite3

    results, models = run(tmp_path, CONFIG)
    want = expected(models, "local/alpha", "local/beta")
    assert_same(actual(results)["self"], want["self"])
    with sqlite3.connect(tmp_path / "inward.db") as conn:
        assert conn.execute("DELETE FROM hypothetical_rows WHERE property = 'among_a_or_c'").rowcount > 0
    again, _ = run(tmp_path, CONFIG)  # every step is done: only the analyses run, on what the store holds
    with pytest.raises(AssertionError):
        assert_same(actual(again)["self"], want["self"])
    assert "among_options" not in actual(again)["self"]
