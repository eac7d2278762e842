"""`inward demo`: the paper's four experiments and the controls, offline, on the bundled models, then the report.

    inward demo            # M1 = qwen2.5-0.5b, M2 = smollm2-135m at CPU size, both cross directions, cheap controls
    inward demo --profile controls   # also every training-heavy control (sibling, paraphrases, ...)
    inward demo --quick    # a first look at tiny sizes, a smoke run (4 min 21 s measured on 2 idle cores)
    inward demo --plan     # the plan only: rows, detectable effects, estimated time; nothing runs
    inward demo --profile paper   # the paper's sizes (~1,000 pairs per combination); meant for a GPU

The sizes of each profile are in `PROFILES`; the experiment file it runs is written beside the results.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from inward.experiments.config import ExperimentConfig

# Sizes per profile. "cpu" is sized by `inward plan` for a 2-core CPU: self vs cross in each direction must be able
# to detect the paper's +17 pp under the plan's own assumptions (77 prompts: 16.3 pp; measured runs detect about
# 8.5), within about 30 minutes; it runs the cheap controls too (input-only predictors, one in-context k). "controls"
# adds every training-heavy control under the same run name, so after `inward demo` it costs only those. "quick"
# is a smoke run (4 min 21 s measured idle; every comparison is underpowered there, and the evidence table says so).
FOUR = ["self_training", "cross_prediction", "calibration", "behaviour_change"]
CHEAP_CONTROLS = ["input_only", "in_context"]
HEAVY_CONTROLS = ["sibling", "snapshot", "response_in_context", "paraphrase", "cross_scaling"]

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {
        "name": "demo-quick",
        "train_tasks": ["wealth_seeking", "arc_challenge_non_cot"],
        "eval_tasks": ["animals_long", "survival_instinct"],
        "properties": ["first_word", "second_character", "ethical_stance", "among_a_or_c"],
        "sizes": {
            "train_items_per_task": 5,
            "per_combo": 3,
            "eval_items_per_task": 3,
            "calibration_items": 2,
            "shift_rows": 6,
            # A smoke run: keep source answers equal to M1's, so the shift set costs its 6 rows, not the
            # dozens of whole answers examined to find 6 that differ (2 of the 7 minutes before), and no
            # self-distilled rows (six more whole answers; one or two optimizer steps cannot collapse anything).
            "shift_keep_same": True,
            "shift_self_distill": 0.0,
        },
        "collateral_tasks": ["arc_challenge_non_cot"],
        "calibration": [{"task": "survival_instinct", "property": "ethical_stance"}],
    },
    "cpu": {
        "name": "demo",
        # The four experiments and the cheap controls (no training of their own); the training-heavy ones are
        # in the `controls` profile, which reuses all of this.
        "experiments": [*FOUR, *CHEAP_CONTROLS],
        # The paper's held-out evaluation also scores "is even" on the val split of `numbers` (SPEC §19.1).
        "eval_tasks": [
            "animals_long",
            "english_words_long",
            "stories_sentences",
            "myopic_reward",
            "survival_instinct",
            "mmlu_non_cot",
            "numbers",
        ],
        # The properties of the paper's per-property figure (Fig. 10).
        "properties": [
            "first_word",
            "second_character",
            "starts_with_vowel",
            "is_even",
            "among_a_or_c",
            "among_b_or_d",
            "ethical_stance",
        ],
        "sizes": {
            "train_items_per_task": 10,
            "per_combo": 4,
            "eval_items_per_task": 11,
            "calibration_items": 6,
            "shift_rows": 16,
        },
        "controls": {"in_context_k": [2], "context_items": 8},
        # One task per answer kind (letters A-D, A/B, free text) for the shift's collateral check.
        "collateral_tasks": ["arc_challenge_non_cot"],
        "calibration": [
            {"task": "animals_long", "property": "second_character"},
            {"task": "survival_instinct", "property": "ethical_stance"},
        ],
    },
    # The cpu demo plus every control, under the cpu demo's name: after `inward demo` it adds only the controls'
    # own steps (trained models and stored answers are reused) and its results replace the demo's.
    "controls": {
        "name": "demo",
        "experiments": [*FOUR, *CHEAP_CONTROLS, *HEAVY_CONTROLS],
        "controls": {"in_context_k": [0, 2, 4], "context_items": 8},
    },
    "paper": {
        "name": "demo-paper",
        "seeds": [0, 1, 2],
        "sizes": {
            "train_items_per_task": 3000,
            "per_combo": 1000,
            "eval_items_per_task": 1000,
            "calibration_items": 500,
            "shift_rows": 1000,
            # The paper's recipe: every source answer, no self-distilled rows (SPEC §12).
            "shift_self_distill": 0.0,
            "shift_keep_same": True,
        },
        "training": {
            "m1": {"lr": 1e-4, "batch_size": 16},
            "m2": {"lr": 1e-4, "batch_size": 16},
            "shift": {"lr": 5e-5, "batch_size": 1},
        },
        "backend": {"batch_size": 64},
    },
}


def demo_config(profile: str, seeds: tuple[int, ...] | None = None) -> ExperimentConfig:
    data = dict(PROFILES[profile])
    if profile == "controls":
        data = {**{k: v for k, v in PROFILES["cpu"].items() if k != "experiments"}, **data}
    if seeds is not None:
        data["seeds"] = list(seeds)
    return ExperimentConfig.model_validate(data)


def run_demo(
    workspace: Path,
    *,
    quick: bool = False,
    profile: str = "cpu",
    console: Any = None,
    seeds: tuple[int, ...] | None = None,
    plan_only: bool = False,
) -> Path | None:
    """Install the bundled models, print the plan with its time estimate, run, write the report."""
    from inward import models
    from inward.experiments.plan import format_plan, make_plan, measured_costs
    from inward.experiments.runner import run_experiment

    profile = "quick" if quick else profile
    cfg = demo_config(profile, seeds)
    t0 = time.perf_counter()
    for name in ("qwen2.5-0.5b", "smollm2-135m"):
        if console is not None:
            console.print(f"[bold cyan]»[/bold cyan] model {name}")
        models.install(name)
    install_s = time.perf_counter() - t0
    plan = make_plan(cfg, Path(workspace))
    costs = measured_costs([cfg.models.m1, cfg.models.m2], console=console)
    if console is not None:
        for line in format_plan(plan, costs):
            console.print(line, markup=False, highlight=False)
    if plan_only:
        return None
    estimate = plan.estimate_s(costs)
    run_dir = Path(workspace) / "runs" / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "experiment.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    extra = {"model_install_s": round(install_s, 1)}
    if estimate is not None:
        extra["estimated_s"] = round(estimate, 1)
    return run_experiment(cfg, Path(workspace), console=console, extra_timings=extra)
