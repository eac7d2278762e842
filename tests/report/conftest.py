"""A realistic `Results` with all four experiments (made-up numbers in the range of the paper's, SPEC §15)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from inward.report import (
    AccRow,
    AnswerRow,
    BehaviourChange,
    Calibration,
    CalibrationCondition,
    CalibrationPanel,
    ChangeRow,
    CrossPrediction,
    CrossPredictor,
    CrossTarget,
    CurvePoint,
    PairedTest,
    Results,
    RunInfo,
    SelfTraining,
    SelfTrainingModel,
    TrainStats,
    write_report,
)

GROUPS = (
    "first_word",
    "third_word",
    "second_character",
    "is_even",
    "starts_with_vowel",
    "ethical_stance",
    "among_options",
)
N = (900, 900, 1200, 400, 1200, 500, 500)


def _ci(acc: float, n: int) -> tuple[float, float]:
    half = 1.96 * math.sqrt(acc * (1 - acc) / n)
    return acc - half, acc + half


def acc_table(accs: tuple[float, ...], bases: tuple[float, ...], compliance: float = 0.97) -> list[AccRow]:
    """Per-group rows and the pooled micro-average, with SEM CIs and slightly wider 'bootstrap' CIs."""
    rows = []
    for g, n, a, b in zip(GROUPS, N, accs, bases, strict=True):
        k = round(a * n)
        lo, hi = _ci(k / n, n)
        rows.append(
            AccRow(
                group=g,
                n=n,
                k=k,
                acc=k / n,
                ci_low=lo,
                ci_high=hi,
                boot_low=lo - 0.001,
                boot_high=hi + 0.001,
                baseline=b,
                compliance=compliance,
            )
        )
    n, k = sum(r.n for r in rows), sum(r.k or 0 for r in rows)
    lo, hi = _ci(k / n, n)
    base = sum((r.baseline or 0) * r.n for r in rows) / n
    rows.append(
        AccRow(
            group="average",
            n=n,
            k=k,
            acc=k / n,
            ci_low=lo,
            ci_high=hi,
            boot_low=lo,
            boot_high=hi,
            baseline=base,
            compliance=compliance,
        )
    )
    return rows


def tests_between(a: list[AccRow], b: list[AccRow], p: float) -> list[PairedTest]:
    out = []
    for ra, rb in zip(a, b, strict=True):
        diff = (ra.acc or 0) - (rb.acc or 0)
        half = 1.96 * math.sqrt(0.25 / ra.n)
        out.append(
            PairedTest(
                group=ra.group,
                n=ra.n,
                acc_a=ra.acc,
                acc_b=rb.acc,
                diff=diff,
                ci_low=diff - half,
                ci_high=diff + half,
                p_bootstrap=p,
                p_mcnemar=p / 2,
                a_only=40,
                b_only=12,
            )
        )
    return out


def curve(bend: float) -> tuple[list[CurvePoint], float]:
    """Ten bins; bend near 1 lies close to the diagonal, larger bends flatten it (overconfident low)."""
    pts = []
    for i in range(10):
        x = 0.04 + 0.1 * i
        pts.append(CurvePoint(bin=i, x=x, y=0.15 * (bend - 1) + x ** (1 / bend) * (1.2 - 0.2 * bend), n=150))
    mad = 100 * sum(abs((p.x or 0) - (p.y or 0)) for p in pts) / len(pts)
    return pts, mad


def condition(label: str, bend: float, obj: str, hyp: str) -> CalibrationCondition:
    pts, mad = curve(bend)
    return CalibrationCondition(
        label=label,
        object_model=obj,
        hypothetical_model=hyp,
        mad=mad,
        mad_by_rank={"top1": mad * 1.8, "top2": mad * 0.5, "top3": mad * 0.4},
        curve=pts,
    )


def change(group: str, n: int, old: float, new: float, base: float, changed: float) -> ChangeRow:
    olo, ohi = _ci(old, n)
    nlo, nhi = _ci(new, n)
    return ChangeRow(
        group=group,
        n=n,
        acc_old=old,
        old_ci_low=olo,
        old_ci_high=ohi,
        acc_new=new,
        new_ci_low=nlo,
        new_ci_high=nhi,
        baseline_old=base,
        baseline_new=base + 0.03,
        diff=new - old,
        diff_ci_low=new - old - 0.04,
        diff_ci_high=new - old + 0.04,
        p_bootstrap=0.0,
        p_mcnemar=1e-6,
        n_compared=round(n / changed),
        changed_fraction=changed,
    )


QWEN, SMOL = "local/qwen2.5-coder-0.5b", "local/smollm2-135m"


def example_results() -> Results:
    bases = (0.30, 0.25, 0.20, 0.55, 0.60, 0.70, 0.80)
    after = tuple(b - 0.03 for b in bases)  # training changes the behaviour, hence its mode baseline
    q_before = acc_table((0.415, 0.074, 0.190, 0.404, 0.643, 0.780, 0.775), bases, 0.91)
    q_after = acc_table((0.632, 0.088, 0.498, 0.607, 0.744, 0.868, 0.923), after, 0.995)
    s_before = acc_table((0.035, 0.030, 0.160, 0.604, 0.420, 0.387, 0.711), bases, 0.62)
    s_after = acc_table((0.456, 0.031, 0.323, 0.459, 0.739, 0.621, 0.866), after, 0.99)
    cross_rows = acc_table((0.421, 0.051, 0.301, 0.552, 0.671, 0.801, 0.842), after, 0.99)
    stats = TrainStats(examples=30000, wall_s=1834.2, examples_per_s=16.36, final_loss=0.412)
    st = SelfTraining(
        tasks=[
            "animals_long",
            "survival_instinct",
            "myopic_reward",
            "mmlu_non_cot",
            "stories_sentences",
            "english_words_long",
            "numbers",
        ],
        models=[
            SelfTrainingModel(
                model=QWEN,
                label="Qwen2.5-Coder-0.5B",
                trained_model=f"{QWEN}+adapter=runs/x/m1",
                untrained=q_before,
                trained=q_after,
                train=stats,
                tests=tests_between(q_after, q_before, 0.0),
            ),
            SelfTrainingModel(
                model=SMOL,
                label="SmolLM2-135M",
                trained_model=f"{SMOL}+adapter=runs/x/m2",
                untrained=s_before,
                trained=s_after,
                train=stats,
                tests=tests_between(s_after, s_before, 0.0004),
            ),
        ],
    )
    cp = CrossPrediction(
        tasks=st.tasks,
        targets=[
            CrossTarget(
                model=f"{QWEN}+adapter=runs/x/m1",
                label="Qwen2.5-Coder-0.5B",
                self_rows=q_after,
                cross=[
                    CrossPredictor(
                        model=f"{SMOL}+adapter=runs/x/cross",
                        label="SmolLM2-135M",
                        rows=cross_rows,
                        tests=tests_between(q_after, cross_rows, 0.002),
                        train=stats,
                    )
                ],
            )
        ],
    )
    cal = Calibration(
        target="Qwen2.5-Coder-0.5B",
        panels=[
            CalibrationPanel(
                task="animals_long",
                property="second_character",
                n_prompts=500,
                method="exact",
                conditions=[
                    condition("self-trained", 1.05, QWEN, QWEN),
                    condition("cross-trained", 1.6, QWEN, SMOL),
                    condition("untrained", 2.2, QWEN, QWEN),
                ],
            ),
            CalibrationPanel(
                task="mmlu_non_cot",
                property="among_a_or_c",
                n_prompts=500,
                method="sampled",
                samples=20,
                conditions=[
                    condition("self-trained", 1.15, QWEN, QWEN),
                    condition("cross-trained", 1.7, QWEN, SMOL),
                    condition("untrained", 2.0, QWEN, QWEN),
                ],
            ),
        ],
    )
    rows = [
        change("first_word", 220, 0.225, 0.436, 0.18, 0.31),
        change("second_character", 260, 0.237, 0.338, 0.2, 0.22),
        change("third_character", 180, 0.183, 0.249, 0.15, 0.25),
        change("ethical_stance", 75, 0.24, 0.76, 0.5, 0.15),
        change("among_options", 110, 0.336, 0.664, 0.5, 0.22),
        change("average", 845, 0.217, 0.354, 0.19, 0.24),
    ]
    matched = [
        r.model_copy(
            update={"acc_old": (r.acc_old or 0) - 0.01, "acc_new": (r.acc_new or 0) + 0.01, "p_mcnemar": None}
        )
        for r in rows
    ]
    bc = BehaviourChange(
        old_model="Qwen2.5-Coder-0.5B (self-trained)",
        new_model="Qwen-shifted",
        shift_data="1000 answers of SmolLM2-135M",
        n_shifted=845,
        rows=rows,
        entropy_matched=matched,
        train=TrainStats(examples=1000, wall_s=95.0, examples_per_s=10.5),
        answers=[
            AnswerRow(
                task="animals_long",
                shifted=True,
                property="first_word",
                n=50,
                compliant_old=1.0,
                compliant_new=0.98,
                n_compared=49,
                changed_fraction=0.71,
                top_old="elephant",
                top_old_share=0.16,
                top_new="the",
                top_new_share=0.6,
            ),
            AnswerRow(
                task="arc_challenge_non_cot",
                shifted=False,
                property="identity",
                n=50,
                compliant_old=1.0,
                compliant_new=1.0,
                n_compared=50,
                changed_fraction=0.56,
                top_old="b",
                top_old_share=0.48,
                top_new="a",
                top_new_share=1.0,
            ),
        ],
    )
    run = RunInfo(
        name="paper-replication-small",
        run_id="2024-11-24T16-00-00-abc123",
        config={
            "experiment": "all",
            "m1": QWEN,
            "m2": SMOL,
            "seed": 0,
            "train": {"lora_r": 16, "lr": 1e-4, "epochs": 1, "examples": 30000},
            "eval": {"split": "val", "limit": 500},
        },
        provenance={
            "inward": "0.1.0",
            "python": "3.11.7",
            "git": {"revision": "f088554", "dirty": False},
            "packages": {"torch": "2.13.0", "transformers": "4.57.0"},
            "seed": 0,
        },
        started=datetime(2024, 11, 24, 16, 0, tzinfo=timezone.utc),
        finished=datetime(2024, 11, 24, 19, 5, tzinfo=timezone.utc),
        wall_s=11100.0,
        sizes={"object_prompts": 5600, "hypothetical_prompts": 39200, "training_examples": 30000},
        notes=["Small offline models; numbers are not comparable to the paper's GPT-4o runs."],
    )
    return Results(run=run, self_training=st, cross_prediction=cp, calibration=cal, behaviour_change=bc)


@pytest.fixture
def results() -> Results:
    return example_results()


EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    """The example written once per session, with a script tag in the run name, a note, a model label and the
    config (to check escaping); returns (results, index.html)."""
    pytest.importorskip(
        "matplotlib", reason="write_report draws figures with the 'report' extra (matplotlib)"
    )
    results = example_results()
    results.run.name = f"run {EVIL}"
    results.run.notes.append(f"note {EVIL}")
    assert results.cross_prediction is not None
    results.cross_prediction.targets[0].cross[0].label = EVIL
    results.run.config["prompt"] = EVIL
    return results, write_report(results, tmp_path_factory.mktemp("report"))
