"""Acceptance: early stopping never changes a result, on the real SmolLM2-135M (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from inward.runs import run_object
from inward.store import Store

HELD_OUT = ["animals_long", "english_words_long", "survival_instinct", "mmlu_non_cot"]
ITEMS = 25


def _run(backend: Any, workspace: Path, early: bool) -> tuple[pd.DataFrame, int]:
    before = backend.stats.generated_tokens
    with Store.open(workspace) as store:  # a fresh store: nothing is resumed or cached across the two runs
        res = run_object(store, backend, tasks=HELD_OUT, limit=ITEMS, early_stop=early, progress=False)
        assert (res.new_rows, res.existing_rows) == (ITEMS * len(HELD_OUT), 0)
        df = store.object_rows(model=str(backend.ref)).set_index(["task", "item_id"]).sort_index()
    return df, backend.stats.generated_tokens - before


@pytest.mark.slow
def test_early_stop_never_changes_a_property_value(smollm2_backend: Any, tmp_path: Path) -> None:
    stopped, tokens_stopped = _run(smollm2_backend, tmp_path / "early", early=True)
    full, tokens_full = _run(smollm2_backend, tmp_path / "full", early=False)
    assert len(stopped) == len(full) == ITEMS * len(HELD_OUT)
    assert list(stopped.index) == list(full.index)

    differing = [
        (key, a, b)
        for key, a, b in zip(stopped.index, stopped["properties"], full["properties"], strict=True)
        if a != b
    ]
    not_prefix = [
        key
        for key, a, b in zip(stopped.index, stopped["raw"], full["raw"], strict=True)
        if not b.startswith(a)
    ]
    # The store's frames hold NaN for a compliant row; compare rule names, with None for compliant.
    comp_a = [x if isinstance(x, str) else None for x in stopped["compliance"]]
    comp_b = [x if isinstance(x, str) else None for x in full["compliance"]]
    compliance_changed = [
        (key, a, b) for key, a, b in zip(stopped.index, comp_a, comp_b, strict=True) if a != b
    ]
    n_early = int((stopped["finish_reason"] == "early").sum())
    print(
        f"\n[early-stop acceptance] rows={len(full)} early={n_early} "
        f"property-diffs={len(differing)} not-prefix={len(not_prefix)} "
        f"compliance-diffs={len(compliance_changed)} {compliance_changed[:5]} "
        f"generated tokens: early={tokens_stopped} full={tokens_full} "
        f"speed-up={tokens_full / max(1, tokens_stopped):.2f}x"
    )
    assert differing == [], f"early stopping changed {len(differing)} rows, e.g. {differing[:3]}"
    assert not_prefix == [], f"stopped answers are not prefixes of the full ones: {not_prefix[:3]}"
    assert n_early > 0
    assert tokens_stopped < tokens_full
