"""The `inward/<ref>` inspect model API over an inward backend (a recording fake stands in for the weights)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from inward.backends.base import GenerateConfig, Generation, Messages
from inward.errors import UserError
from inward.interop import modelapi
from inward.interop.task import self_prediction


class Recorder:
    """Answers "Owl bat" to object-level prompts and "owl" to hypotheticals; records each batch."""

    ref = "hf/recorder"

    def __init__(self) -> None:
        self.batches: list[tuple[int, GenerateConfig]] = []

    def generate(
        self, prompts: Sequence[Messages], config: GenerateConfig, stop_when: Any = None
    ) -> list[list[Generation]]:
        self.batches.append((len(prompts), config))
        out = []
        for p in prompts:
            text = "owl" if "Do not answer that message now." in p[-1]["content"] else "Owl bat"
            out.append([Generation(text=text, finish_reason="stop", completion_tokens=2, prompt_tokens=5)])
        return out


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setitem(modelapi._BACKENDS, "hf/recorder[]", rec)
    return rec


def test_inward_backend_answers_inspect_in_batches(recorder: Recorder, tmp_path: Path) -> None:
    task = self_prediction(tasks="animals_long", properties="first_word,starts_with_vowel", limit=3)
    [log] = inspect_eval(task, model="inward/hf/recorder", log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    # first_word "owl" = "owl" (right); starts_with_vowel answered "owl" is not true/false (wrong)
    assert log.results.scores[0].metrics["accuracy"].value == 0.5
    prompts = sum(n for n, _ in recorder.batches)
    assert prompts == 3 + 6  # one object prompt per item, one hypothetical per sample
    assert len(recorder.batches) < prompts  # concurrent requests with one config share a batch
    assert {(c.temperature, c.max_tokens) for _, c in recorder.batches} == {(0.0, 48), (0.0, 12)}
    usage = log.stats.model_usage["inward/hf/recorder"]
    assert (usage.input_tokens, usage.output_tokens) == (5 * prompts, 2 * prompts)


def test_inspect_refs_are_refused_inside_inward_api() -> None:
    with pytest.raises(UserError, match="use the inspect model directly"):
        get_model("inward/inspect/mockllm/model", memoize=False)
