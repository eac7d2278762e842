"""`inward train` interrupted mid-run, then the same command again: it resumes from the last checkpoint, says so,
and ends with the adapter an uninterrupted run gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from inward.cli import cli  # noqa: E402
from inward.training import lora  # noqa: E402
from inward.training.chat_data import ChatExample, ChatMessage, write_chat_jsonl  # noqa: E402


class Killed(Exception):
    pass


def _train(workspace: Path, model: Path, data: Path) -> Any:
    args = ["train", "-m", f"hf/{model}", "--data", str(data), "--out", "pets", "--batch-size", "4"]
    args += ["--checkpoint-every", "2", "--lr", "0.02"]
    return CliRunner().invoke(cli, args, env={"INWARD_WORKSPACE": str(workspace)}, catch_exceptions=True)


def test_train_command_resumes_after_an_interruption(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "pets.jsonl"
    rows = [
        ChatExample(
            messages=(
                ChatMessage(role="user", content=f"Name a pet: {i}"),
                ChatMessage(role="assistant", content=["cat", "dog", "fish"][i % 3]),
            )
        )
        for i in range(24)
    ]
    write_chat_jsonl(rows, data)
    clean = _train(tmp_path / "a", tiny_model_dir, data)
    assert clean.exit_code == 0, clean.output
    assert "resumed" not in clean.output

    real = lora.train_lora

    def dies_at_step_5(*args: Any, **kwargs: Any) -> Any:
        def on_step(info: Any) -> None:
            if info.step == 5:
                raise Killed

        return real(*args, **kwargs, on_step=on_step)

    monkeypatch.setattr(lora, "train_lora", dies_at_step_5)
    first = _train(tmp_path / "b", tiny_model_dir, data)
    assert isinstance(first.exception, Killed)
    monkeypatch.setattr(lora, "train_lora", real)
    again = _train(tmp_path / "b", tiny_model_dir, data)
    assert again.exit_code == 0, again.output
    assert "resumed from the step-4 checkpoint" in " ".join(again.output.split())  # rich wraps lines

    def adapter(ws: Path) -> dict[str, Any]:
        return load_file(str(ws / "models" / "pets" / "adapter" / "adapter_model.safetensors"))

    a, b = adapter(tmp_path / "a"), adapter(tmp_path / "b")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
