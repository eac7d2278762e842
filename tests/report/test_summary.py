"""Markdown summary and headline sentences."""

from __future__ import annotations

from inward.report import Results, RunInfo, headlines, markdown_summary


def test_summary_has_the_paper_numbers(results: Results) -> None:
    md = markdown_summary(results)
    st, cp, cal, bc = (
        results.self_training,
        results.cross_prediction,
        results.calibration,
        results.behaviour_change,
    )
    assert st is not None and cp is not None and cal is not None and bc is not None
    before, after = st.models[0].untrained[-1], st.models[0].trained[-1]
    assert f"| {st.models[0].label} | {100 * (before.acc or 0):.1f}% [" in md
    assert (
        f"{100 * (after.acc or 0):.1f}% [{100 * (after.ci_low or 0):.1f}, {100 * (after.ci_high or 0):.1f}]"
        in md
    )
    assert f"{100 * (after.baseline or 0):.1f}%" in md
    assert "+11.5 pp" in md and "0.002 / 0.001" in md  # self − cross with its p-values
    mads = [f"{c.mad:.1f}" for c in cal.panels[0].conditions]
    assert (
        f"| animals_long · second character | {' | '.join(mads)} | 500 | — | exact |" in md
    )  # no coverage recorded
    assert "| shifted | 21.7% [" in md and "| entropy-matched |" in md and "<0.001 / n/a" in md
    assert md.count("### ") == 4
    # The collateral check: one row per task, compliance and most common answer before → after.
    assert "| arc_challenge_non_cot | no | identity | 100% → 100% | 56.0% of 50 | b (48%) → a (100%) |" in md
    assert "| animals_long | yes | first word | 100% → 98% | 71.0% of 49 | elephant (16%) → the (60%) |" in md
    assert len(md.splitlines()) < 48  # short


def test_pipes_in_labels_do_not_break_tables(results: Results) -> None:
    assert results.self_training is not None
    results.self_training.models[0].label = "a|b"
    md = markdown_summary(results)
    assert "| a\\|b |" in md


def test_headlines_and_empty_results(results: Results) -> None:
    lines = headlines(results)
    assert len(lines) == 2 + 1 + 2 + 1  # two models, one cross pair, two calibration panels, behaviour change
    assert lines[0].startswith("Qwen2.5-Coder-0.5B: self-prediction 42.5% untrained → 58.5% self-trained")
    empty = Results(run=RunInfo(name="e", run_id="r"))
    assert headlines(empty) == []
    assert "No experiment results" in markdown_summary(empty)


def test_small_samples_show_the_wilson_interval(results: Results) -> None:
    from inward.metrics import sem_ci, wilson_ci
    from inward.report.results import AccRow, ChangeRow

    st, bc = results.self_training, results.behaviour_change
    assert st is not None and bc is not None
    lo, hi = sem_ci(0, 7)
    wlo, whi = wilson_ci(0, 7)
    st.models[0].trained[-1] = AccRow(
        group="average", n=7, k=0, acc=0.0, ci_low=lo, ci_high=hi, wilson_low=wlo, wilson_high=whi
    )
    bc.rows[-1] = ChangeRow(
        group="average",
        n=7,
        acc_old=0.0,
        old_ci_low=lo,
        old_ci_high=hi,
        old_wilson_low=wlo,
        old_wilson_high=whi,
        acc_new=0.0,
        new_ci_low=lo,
        new_ci_high=hi,
    )
    md = markdown_summary(results)
    assert "0.0% [0.0, 35.4]" in md and "0.0% [0.0, 0.0]" in md  # Wilson where given; SEM without it
    assert "Wilson score interval where n < 30" in md
    # At n ≥ 30 the table keeps the paper's ±1.96·SEM.
    lo, hi = sem_ci(0, 30)
    wlo, whi = wilson_ci(0, 30)
    st.models[0].trained[-1] = AccRow(
        group="average", n=30, k=0, acc=0.0, ci_low=lo, ci_high=hi, wilson_low=wlo, wilson_high=whi
    )
    assert f"0.0% [0.0, {100 * whi:.1f}]" not in markdown_summary(results)
