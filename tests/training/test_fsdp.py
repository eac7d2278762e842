"""Training under `accelerate launch` with the shipped configs: two CPU processes (gloo), DDP and FSDP2, give
the per-step token-weighted loss (within 1e-5) and the adapter of one process that accumulates the same two
micro-batches per step; an FSDP run resumes from its checkpoint (gathered from the shards) to the adapter of
an uninterrupted run; a finished run is returned without launching again.

On CPU accelerate would run the FSDP config as plain DDP; `inward.training.parallel` applies the FSDP plugin
itself there, and the test checks that the processes really ran sharded (provenance: kind fsdp, version 2)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from safetensors.torch import load_file  # noqa: E402

from inward.errors import UserError  # noqa: E402
from inward.training import launch  # noqa: E402
from inward.training.chat_data import ChatExample, ChatMessage, write_chat_jsonl  # noqa: E402
from inward.training.config import TrainConfig, TrainResult  # noqa: E402
from inward.training.lora import train_lora  # noqa: E402

# 20 examples, 4 held out for validation; 16 = 4 micro-batches of 4: two per step, one per process (or both
# accumulated in one): 4 steps over 2 epochs.
CONFIG = TrainConfig(
    lr=1e-2,
    epochs=2,
    batch_size=4,
    device="cpu",
    val_fraction=0.2,
    checkpoint_every=2,
    keep_checkpoints=True,
)


def _adapter(result: TrainResult) -> dict[str, Any]:
    return load_file(str(Path(result.adapter_dir) / "adapter_model.safetensors"))


def _max_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        ChatExample(
            messages=(
                ChatMessage(role="user", content=f"Name an animal: {i}"),
                # Answers of 3, 6 and 10 tokens (with the end-of-turn token): micro-batches and processes hold
                # different numbers of answer tokens, so a mean of per-process means would not match.
                ChatMessage(role="assistant", content=["cat", "dog horse", "a fox and a goat"][i % 3]),
            )
        )
        for i in range(20)
    ]
    return write_chat_jsonl(rows, tmp_path_factory.mktemp("data") / "d.jsonl")


@pytest.fixture(scope="module")
def single(tiny_model_dir: Path, data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("single")
    with pytest.MonkeyPatch.context() as mp:
        # One thread, as each launched process has (accelerate sets OMP_NUM_THREADS=1): the same summation
        # order, so the comparison shows the distribution's differences, not the thread count's (~2e-7).
        mp.setenv("INWARD_THREADS", "1")
        cfg = CONFIG.model_copy(update={"grad_accum": 2})
        return train_lora(tiny_model_dir, data, out, cfg, progress=False)


@pytest.fixture(scope="module")
def fsdp_run(tiny_model_dir: Path, data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    cfg = CONFIG.model_copy(update={"accelerate_config": "fsdp", "num_processes": 2})
    return train_lora(tiny_model_dir, data, tmp_path_factory.mktemp("fsdp") / "run", cfg, progress=False)


def _check_matches(launched: TrainResult, single: TrainResult, kind: str) -> None:
    assert launched.provenance["num_processes"] == 2
    assert launched.provenance["parallel"]["kind"] == kind
    assert launched.provenance["accelerate_config"] == str(launch.config_path(kind))
    assert launched.steps == single.steps == 4
    assert (launched.n_train, launched.n_val) == (16, 4)
    assert launched.val_loss_before is not None and single.val_loss_before is not None
    assert launched.val_loss_after is not None and single.val_loss_after is not None
    loss_diff = max(abs(a - b) for a, b in zip(launched.train_loss, single.train_loss, strict=True))
    weight_diff = _max_diff(_adapter(launched), _adapter(single))
    val_diff = max(
        abs(launched.val_loss_before - single.val_loss_before),
        abs(launched.val_loss_after - single.val_loss_after),
    )
    print(
        f"{kind}: max per-step loss difference {loss_diff:.3g} (losses {launched.train_loss}), "
        f"validation loss difference {val_diff:.3g}, max adapter difference {weight_diff:.3g}"
    )
    assert loss_diff <= 1e-5
    assert val_diff <= 1e-5
    assert weight_diff <= 1e-5


@pytest.mark.slow
def test_fsdp_two_processes_match_one_process(fsdp_run: TrainResult, single: TrainResult) -> None:
    _check_matches(fsdp_run, single, "fsdp")
    assert fsdp_run.provenance["parallel"]["fsdp_version"] == 2
    assert not (Path(fsdp_run.out_dir) / "launch").exists()  # the launch's copy of the data is cleaned up


@pytest.mark.slow
def test_ddp_two_processes_match_one_process(
    tiny_model_dir: Path, data: Path, single: TrainResult, tmp_path: Path
) -> None:
    cfg = CONFIG.model_copy(update={"accelerate_config": "ddp", "num_processes": 2})
    _check_matches(train_lora(tiny_model_dir, data, tmp_path / "ddp", cfg, progress=False), single, "ddp")


@pytest.mark.slow
def test_fsdp_resumes_from_its_checkpoint_and_a_finished_run_is_not_relaunched(
    tiny_model_dir: Path, data: Path, fsdp_run: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An interrupted run: the step-2 checkpoint written, no adapter or train.json yet.
    out = tmp_path / "run"
    shutil.copytree(fsdp_run.out_dir, out)
    shutil.rmtree(out / "adapter")
    (out / "train.json").unlink()
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-00000002"]
    cfg = CONFIG.model_copy(update={"accelerate_config": "fsdp", "num_processes": 2})
    resumed = train_lora(tiny_model_dir, data, out, cfg, progress=False)
    assert resumed.resumed_from_step == 2
    assert resumed.train_loss == pytest.approx(fsdp_run.train_loss, abs=1e-6)
    assert _max_diff(_adapter(resumed), _adapter(fsdp_run)) <= 1e-6

    def no_launch(*a: Any, **k: Any) -> Any:
        raise AssertionError("a finished run was launched again")

    monkeypatch.setattr(launch.subprocess, "run", no_launch)
    assert train_lora(tiny_model_dir, data, out, cfg, progress=False) == resumed


@pytest.mark.slow
def test_a_mistake_in_the_processes_comes_back_as_one_line(tiny_model_dir: Path, tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    data = write_chat_jsonl(
        [
            ChatExample(
                messages=(ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="a"))
            )
        ],
        tmp_path / "one.jsonl",
    )
    # QLoRA with device auto on a machine without CUDA: refused inside the launched process.
    cfg = TrainConfig(accelerate_config="ddp", num_processes=1, quantize="4bit")
    with pytest.raises(UserError, match="needs a CUDA GPU") as e:
        train_lora(tiny_model_dir, data, tmp_path / "q", cfg, progress=False)
    assert "\n" not in str(e.value)
