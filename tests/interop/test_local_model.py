"""The inspect task on the bundled SmolLM2-135M through inward's local backend (`--model inward/hf/<folder>`).

inspect reaches the local model through inward's model API, so its object-level answers must be exactly what
inward's own local backend answers greedily to the same prompts; the log is then read back and imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log

from inward import tasks as T
from inward.backends.base import GenerateConfig
from inward.interop.logs import import_log
from inward.interop.task import self_prediction
from inward.prompts import DEFAULT
from inward.store import Store


@pytest.mark.slow
def test_task_on_smollm2_reads_back_and_imports(smollm2_dir: Path, smollm2_backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = self_prediction(tasks="animals_long,mmlu_non_cot", properties="first_word,among_a_or_c", limit=2)
    [log] = inspect_eval(
        task, model=f"inward/hf/{smollm2_dir}", log_dir=str(tmp_path / "logs"), display="none"
    )
    assert log.status == "success", log.error
    back = read_eval_log(log.location)
    assert len(back.samples) == 4  # 2 animals_long items × first_word + 2 mmlu items × among_a_or_c
    metrics = {k: m.value for k, m in back.results.scores[0].metrics.items()}
    scored = [s for s in back.samples if s.scores["prediction"].metadata["scored"]]
    assert metrics["scored"] == len(scored)
    if scored:
        assert metrics["accuracy"] == sum(s.scores["prediction"].value == "C" for s in scored) / len(scored)
    # the same answers as inward's local backend, greedy, 48 tokens
    items = {it.id: it for name in ("animals_long", "mmlu_non_cot") for it in T.get(name).items("val")[:2]}
    prompts = [
        DEFAULT.object_messages(T.get(s.metadata["task"]), items[s.metadata["item_id"]]) for s in back.samples
    ]
    direct = smollm2_backend.generate(prompts, GenerateConfig(temperature=0.0, max_tokens=48))
    assert [s.metadata["object_raw"] for s in back.samples] == [g[0].text for g in direct]
    with Store.open(tmp_path / "ws") as st:
        got = import_log(st, log.location, model="local/smollm2-135m")
        assert got.new_rows == 4
