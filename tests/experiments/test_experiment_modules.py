"""The experiment abstraction: a fifth experiment in one module, both cross directions, seeds, the evidence table
and the plan, on scripted models whose answers the tests can work out (tests/experiments/scripted.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import pytest
import scripted as S
from pydantic import BaseModel

from inward import metrics as M
from inward.errors import UserError
from inward.experiments import base
from inward.experiments.base import Claim, Experiment, Number, register
from inward.experiments.config import ExperimentConfig
from inward.experiments.pipeline import Pipeline
from inward.report.results import Results, find_row

EVAL = ["animals_long", "mmlu_non_cot", "survival_instinct"]
CONFIG: dict[str, Any] = {
    "name": "mods",
    "models": {"m1": "local/alpha", "m2": "local/beta"},
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": EVAL,
    "properties": ["first_word", "second_character", "among_a_or_c", "ethical_stance"],
    "collateral_tasks": [],
    "sizes": {
        "train_items_per_task": 12,
        "per_combo": 6,
        "eval_items_per_task": 16,
        "calibration_items": 8,
        "shift_rows": 8,
    },
    "calibration": [{"task": "animals_long", "property": "second_character"}],
}


def run(ws: Path, config: dict[str, Any]) -> tuple[Results, S.ScriptedModels, Pipeline]:
    holder: dict[str, S.ScriptedModels] = {}

    def models(store: Any) -> S.ScriptedModels:
        holder["m"] = S.ScriptedModels(store)
        return holder["m"]

    pipe = Pipeline(ExperimentConfig.model_validate(config), ws, progress=False, models=models)
    return pipe.run(), holder["m"], pipe


# -- a fifth experiment, added in one module (this one) -------------------------------------------------------


class UntrainedGap(BaseModel):
    """The toy's section: how much better the self-trained M1 predicts itself than the untrained M1 did."""

    gap: float
    n: int


@register
class UntrainedGapExperiment(Experiment):
    """A toy: M1's self-prediction accuracy after minus before self-training, read from the store."""

    name: ClassVar[str] = "toy_gap"
    title: ClassVar[str] = "Toy gap"

    def steps(self, ctx: Any) -> tuple[str, str]:
        m1, m1t = ctx.cfg.model("m1"), ctx.self_trained("m1")
        ctx.evaluate(m1, m1)
        ctx.evaluate(m1t, m1t)
        return m1, m1t

    def analyse(self, ctx: Any, done: tuple[str, str]) -> UntrainedGap:
        m1, m1t = done
        before, after = M.intersect(ctx.readings.scored(m1, m1), ctx.readings.scored(m1t, m1t))
        return UntrainedGap(gap=float(after["correct"].mean() - before["correct"].mean()), n=len(after))

    def claims(self, section: UntrainedGap) -> list[Claim]:
        return [
            Claim(
                "toy_gap",
                "Toy: training helps",
                "toy",
                "pp",
                section.gap,
                section.gap - 0.5,
                section.gap + 0.5,
                0.5,
                section.n,
                section.n,
                "self_training",
            )
        ]

    def numbers(self, section: UntrainedGap) -> list[Number]:
        return [Number("toy gap", "pp", section.gap)]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    results, models, pipe = run(tmp_path_factory.mktemp("both"), CONFIG)
    return {"results": results, "models": models, "pipe": pipe}


def test_a_fifth_experiment_is_one_module_plus_registration(tmp_path: Path) -> None:
    assert "toy_gap" in base.REGISTRY
    results, models, _ = run(tmp_path, {**CONFIG, "experiments": ["toy_gap", "self_training"]})
    toy = results.other["toy_gap"]
    st = results.self_training.models[0]
    # The toy's number, by the self-training section's own counts on the same prompts.
    before, after = find_row(st.untrained), find_row(st.trained)
    assert toy["n"] == after.n == before.n
    assert toy["gap"] == pytest.approx(after.k / after.n - before.k / before.n)
    row = next(r for r in results.evidence.rows if r.key == "toy_gap")
    assert row.experiment == "toy_gap" and row.effect == pytest.approx(toy["gap"])
    assert row.se == pytest.approx(1.0 / 3.92)  # the interval's width / 3.92
    # the toy asked for M1 only: M2 was never trained
    assert not any("m2" in f["name"] for f in models.fits)
    results.save(tmp_path / "r.json")
    assert Results.load(tmp_path / "r.json").other["toy_gap"] == toy
    from inward.report.html import render_html

    page = render_html(results)
    assert "Other experiments" in page and "toy_gap" in page and "Toy: training helps" in page


def test_unknown_experiments_are_one_clear_line() -> None:
    with pytest.raises(ValueError, match=r"unknown experiment 'telepathy'; known: .*self_training"):
        ExperimentConfig.model_validate({"experiments": ["telepathy"]})


# -- both directions ---------------------------------------------------------------------------------------


def test_cross_prediction_runs_both_directions_by_default(both: dict[str, Any]) -> None:
    cp = both["results"].cross_prediction
    assert [(t.role, t.model.split("+")[0]) for t in cp.targets] == [
        ("m1", "local/alpha"),
        ("m2", "local/beta"),
    ]
    names = sorted(f["name"].rsplit("-", 1)[0] for f in both["models"].fits)
    assert names == [
        "mods-m1-cross-m2",
        "mods-m1-self",
        "mods-m1-shifted",
        "mods-m2-cross-m1",
        "mods-m2-self",
    ]
    # beta (100M) predicting alpha (400M) is the weaker predictor; alpha predicting beta the stronger one
    assert [t.cross[0].more_capable for t in cp.targets] == [False, True]
    caps = {c.model: c.parameters for c in cp.capability}
    assert caps == {"local/alpha": 400_000_000, "local/beta": 100_000_000}
    # the M1-trained-on-M2 predictor was trained on M2t's data: the same composition as M2's own self set
    fits = {f["name"].rsplit("-", 1)[0]: f for f in both["models"].fits}
    assert fits["mods-m1-cross-m2"]["base"] == "local/alpha"
    assert Path(fits["mods-m1-cross-m2"]["data"]).name == "cross-m2.jsonl"  # the cross set on M2 (shared)


def test_each_direction_matches_the_hand_computation(both: dict[str, Any]) -> None:
    models, cp = both["models"], both["results"].cross_prediction
    fits = {f["name"].rsplit("-", 1)[0]: f["name"] for f in models.fits}
    for target, base_t, pred, base_p in (
        ("m1", "local/alpha", "m2", "local/beta"),
        ("m2", "local/beta", "m1", "local/alpha"),
    ):
        tt = models.backend(f"{base_t}+adapter={fits[f'mods-{target}-self']}")
        pc = models.backend(f"{base_p}+adapter={fits[f'mods-{pred}-cross-{target}']}")
        beh = S.behaviour(tt, EVAL, 16, CONFIG["properties"])
        keys = sorted(beh)
        want_self = S.prediction_table(beh, tt, keys)
        want_cross = S.prediction_table(beh, pc, keys)
        t = next(x for x in cp.targets if x.role == target)
        got_self = {r.group: (r.n, r.k) for r in t.self_rows}
        got_cross = {r.group: (r.n, r.k) for r in t.cross[0].rows}
        assert got_self == {g: v[:2] for g, v in want_self.items()}
        assert got_cross == {g: v[:2] for g, v in want_cross.items()}


def test_the_evidence_table_has_a_row_per_claim_with_the_rule_applied(both: dict[str, Any]) -> None:
    res = both["results"]
    ev = res.evidence
    keys = [r.key for r in ev.rows]
    assert keys == [
        "self_training:local/alpha",
        "self_training:local/beta",
        "self_vs_cross:m1:local/beta",
        "self_vs_cross:m2:local/alpha",
        "calibration:animals_long:second_character",
        "behaviour_change",
        "behaviour_change_entropy",
    ]
    assert set(ev.rules) == {"supports", "contradicts", "inconclusive", "underpowered"}
    for row in ev.rows:
        seed = row.seeds[0]
        assert (row.effect, row.ci_low, row.ci_high) == (seed.effect, seed.ci_low, seed.ci_high)
        if row.ci_low is not None:
            assert row.se == pytest.approx((row.ci_high - row.ci_low) / 3.92)
            assert row.mde == pytest.approx(row.se * (1.959964 + 0.841621), rel=1e-5)
        assert row.verdict == M.verdict(
            row.effect, row.ci_low, row.ci_high, row.mde, row.paper_effect, p=row.p
        )
    # The self-vs-cross row of M1 is exactly the paired test of the cross section.
    t = find_row(res.cross_prediction.targets[0].cross[0].tests)
    row = ev.rows[2]
    assert (row.effect, row.ci_low, row.ci_high, row.p, row.n) == (
        t.diff,
        t.cluster_ci_low,
        t.cluster_ci_high,
        t.p_cluster,
        t.n,
    )
    assert row.paper_effect == pytest.approx(0.17)
    assert "weaker predictor" in (row.note or "")  # beta is the smaller model
    # calibration: MAD difference, cross − self, in MAD points
    panel = res.calibration.panels[0]
    cal = ev.rows[4]
    assert cal.unit == "mad" and cal.effect == pytest.approx(panel.self_vs_cross.diff)
    conds = {c.label: c.mad for c in panel.conditions}
    assert panel.self_vs_cross.diff == pytest.approx(conds["cross-trained"] - conds["self-trained"])


# -- seeds -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cfg = {**CONFIG, "seeds": [0, 1, 2], "experiments": ["self_training", "cross_prediction"]}
    results, models, pipe = run(tmp_path_factory.mktemp("seeds"), cfg)
    return {"results": results, "models": models, "pipe": pipe}


def test_each_seed_trains_its_own_models_on_its_own_items(seeded: dict[str, Any]) -> None:
    import json

    fits = seeded["models"].fits
    m1_self = [f for f in fits if f["name"].startswith("mods-m1-self")]
    assert sorted(f["seed"] for f in m1_self) == [0, 1, 2]
    assert len({f["name"] for f in m1_self}) == 3
    items = []
    for f in m1_self:
        rows = [json.loads(x) for x in Path(f["data"]).read_text().splitlines() if x.strip()]
        items.append({r["inward"]["item_id"] for r in rows})
    # independent draws: disjoint windows of each task's train items
    assert not (items[0] & items[1]) and not (items[1] & items[2]) and not (items[0] & items[2])


def test_seed_numbers_are_mean_spread_and_per_seed_values(seeded: dict[str, Any]) -> None:
    from statistics import mean, stdev

    res = seeded["results"]
    assert res.seeds == [0, 1, 2] and [s.seed for s in res.seed_runs] == [0, 1, 2]
    assert res.self_training == res.seed_runs[0].self_training
    per_seed = [find_row(s.self_training.models[0].trained).acc for s in res.seed_runs]
    num = next(
        n for n in res.seed_numbers if n.name.endswith("self-trained, self-prediction") and "M1" in n.name
    )
    assert num.values == {"0": per_seed[0], "1": per_seed[1], "2": per_seed[2]}
    assert num.mean == pytest.approx(mean(per_seed)) and num.sd == pytest.approx(stdev(per_seed))
    # the untrained model is scored on the prompts each seed's trained model shares with it, so it moves too
    untrained = next(n for n in res.seed_numbers if n.name.startswith("M1") and "untrained" in n.name)
    assert untrained.values == {
        str(s.seed): find_row(s.self_training.models[0].untrained).acc for s in res.seed_runs
    }


def test_the_evidence_combines_seeds_conservatively(seeded: dict[str, Any]) -> None:
    row = next(r for r in seeded["results"].evidence.rows if r.key.startswith("self_vs_cross:m1"))
    effects = [s.effect for s in row.seeds]
    ses = [s.se for s in row.seeds]
    assert [s.seed for s in row.seeds] == [0, 1, 2]
    mean = sum(effects) / 3
    sd = math.sqrt(sum((e - mean) ** 2 for e in effects) / 2)
    se = math.sqrt(sum(s * s for s in ses) / 3 + sd**2 / 3)
    assert (
        row.effect == pytest.approx(mean) and row.spread == pytest.approx(sd) and row.se == pytest.approx(se)
    )
    assert (row.ci_low, row.ci_high) == pytest.approx((mean - 1.959964 * se, mean + 1.959964 * se), rel=1e-5)
    assert row.seeds_agree == (len({s.verdict for s in row.seeds}) == 1)


# -- config -------------------------------------------------------------------------------------------------


def test_cross_pairs_and_legacy_keys() -> None:
    old = ExperimentConfig.model_validate({"seed": 3, "cross_both_directions": False})
    assert old.seeds == (3,) and old.cross_pairs == (("m1", "m2"),)
    assert ExperimentConfig.model_validate({"cross_both_directions": True}).cross_pairs == (
        ("m1", "m2"),
        ("m2", "m1"),
    )
    three = ExperimentConfig.model_validate(
        {"models": {"m3": "local/qwen2.5-1.5b"}, "cross_pairs": [["m1", "m3"], ["m3", "m1"], ["m2", "m3"]]}
    )
    assert three.model("m3") == "local/qwen2.5-1.5b"
    for bad, msg in (
        ({"cross_pairs": [["m1", "m1"]]}, "cannot be its own"),
        ({"cross_pairs": [["m1", "m3"]]}, "set models.m3 first"),
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"seeds": []}, "at least one seed"),
        ({"seed": 1, "seeds": [2]}, "not both"),
    ):
        with pytest.raises(ValueError, match=msg):
            ExperimentConfig.model_validate(bad)
    with pytest.raises(UserError, match=r"models\.m3 is not set"):
        ExperimentConfig().model("m3")


# -- plan ---------------------------------------------------------------------------------------------------


def test_the_plan_is_the_experiments_own_steps(tmp_path: Path, both: dict[str, Any]) -> None:
    from inward.experiments.plan import make_plan

    cfg = ExperimentConfig.model_validate(CONFIG)
    plan = make_plan(cfg, tmp_path / "plan", models=S.ScriptedModels)
    trains = sorted(s.name for s in plan.steps if s.kind == "train")
    assert trains == [
        "train m1-cross-m2",
        "train m1-self",
        "train m1-shifted",
        "train m2-cross-m1",
        "train m2-self",
    ]
    # every evaluation the run did, the plan has (names carry refs, so compare the kinds and counts)
    done = both["pipe"].steps.timings
    ran = sorted(k.split(" ")[0] for k in done if k.startswith(("evaluate", "train", "calibration")))
    planned = sorted(
        s.name.split(" ")[0] for s in plan.steps if s.name.startswith(("evaluate", "train", "calibration"))
    )
    assert planned == ran
    # the comparisons' rows are the scored rows before compliance losses: an upper bound of what ran
    res = both["results"]
    comp = {c.key: c for c in plan.comparisons}
    n_cross = find_row(res.cross_prediction.targets[0].cross[0].tests).n
    assert comp["self_vs_cross:m1"].rows == 16 * 2 + 16 * 1 + 16 * 1 >= n_cross
    assert comp["self_vs_cross:m1"].prompts == 48
    assert comp["self_vs_cross:m1"].mde == pytest.approx(
        M.planned_detectable_effect(64, 48, p_a=0.5, p_b=0.5, pair_correlation=0.2, icc=0.3)
    )
    est = plan.estimate_s(
        {
            "local/alpha": {
                "object": 1.0,
                "hypothetical": 2.0,
                "train": 3.0,
                "distributions": 4.0,
                "load": 0,
            },
            "local/beta": {"object": 1.0, "hypothetical": 2.0, "train": 3.0, "distributions": 4.0, "load": 0},
        }
    )
    by = plan.rows_by()
    assert est == pytest.approx(
        sum(
            n * {"object": 1, "hypothetical": 2, "train": 3, "distributions": 4}[k]
            for (_, k), n in by.items()
        )
    )


def test_the_plan_uses_an_earlier_runs_measured_errors(tmp_path: Path) -> None:
    from inward.experiments.plan import make_plan

    ws = tmp_path / "ws"
    results, _, _ = run(ws, CONFIG)
    (ws / "runs" / "mods").mkdir(parents=True, exist_ok=True)
    results.save(ws / "runs" / "mods" / "results.json")
    bigger = {**CONFIG, "sizes": {**CONFIG["sizes"], "eval_items_per_task": 64}}
    plan = make_plan(ExperimentConfig.model_validate(bigger), ws, models=S.ScriptedModels)
    row = next(r for r in results.evidence.rows if r.key.startswith("self_vs_cross:m1"))
    comp = next(c for c in plan.comparisons if c.key == "self_vs_cross:m1")
    assert comp.source.startswith("measured")
    assert comp.mde == pytest.approx(M.detectable_effect(row.se * math.sqrt(row.n / comp.rows)))


class _Fixed(Experiment):
    """Claims given by the test (not registered): for the evidence rules alone."""

    name: ClassVar[str] = "fixed"
    title: ClassVar[str] = "Fixed"

    def steps(self, ctx: Any) -> None:
        return None

    def analyse(self, ctx: Any, done: Any) -> Any:
        return None

    def claims(self, section: list[Claim]) -> list[Claim]:
        return section


def _claim(**kw: Any) -> Claim:
    base = dict(
        key="k",
        claim="c",
        comparison="x",
        unit="pp",
        effect=0.0,
        ci_low=0.0,
        ci_high=0.0,
        p=1.0,
        n=30,
        n_clusters=10,
        paper="self_vs_cross",
    )
    return Claim(**{**base, **kw})


def test_a_degenerate_interval_becomes_the_rule_of_three() -> None:
    from inward.experiments.evidence import table

    ev = table([_Fixed()], [base.Sections(0, {"fixed": [_claim()]})])
    row = ev.rows[0]
    assert (row.ci_low, row.ci_high) == pytest.approx((-0.3, 0.3))  # ±3/10 prompts
    assert row.se == pytest.approx(0.6 / 3.92) and row.mde == pytest.approx(M.detectable_effect(0.6 / 3.92))
    assert row.verdict == "underpowered" and "rule of three" in row.note


def test_support_needs_the_p_value_too_and_no_interval_falls_back_to_the_planned_power() -> None:
    from inward.experiments.evidence import table

    few = _claim(effect=0.57, ci_low=0.5, ci_high=0.8, p=0.125, n=7, n_clusters=7)
    one = _claim(key="one", effect=0.0, ci_low=None, ci_high=None, p=None, n=1, n_clusters=1)
    ev = table([_Fixed()], [base.Sections(0, {"fixed": [few, one]})])
    assert ev.rows[0].verdict != "supports"  # the interval is above zero, the exact-floored p is not below α
    assert ev.rows[1].mde == pytest.approx(
        M.planned_detectable_effect(1, 1, p_a=0.5, p_b=0.5, pair_correlation=0.2, icc=0.3)
    )
    assert ev.rows[1].verdict == "underpowered"


def test_seeds_on_the_same_prompts_are_never_more_significant_than_the_best_seed() -> None:
    from inward.experiments.evidence import table

    same = _claim(effect=0.6, ci_low=0.35, ci_high=0.85, p=0.25, n=6, n_clusters=4)
    ev = table([_Fixed()], [base.Sections(s, {"fixed": [same]}) for s in (0, 1, 2)])
    row = ev.rows[0]
    assert row.p == pytest.approx(0.25) and row.verdict != "supports" and row.seeds_agree
