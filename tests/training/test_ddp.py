"""Data-parallel training: two CPU processes (gloo) give the same adapter as one process that accumulates the
same two micro-batches per step, because DDP averages the two gradients exactly as accumulation does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from safetensors.torch import load_file  # noqa: E402

from inward.training.chat_data import ChatExample, ChatMessage, write_chat_jsonl  # noqa: E402
from inward.training.config import TrainConfig, TrainResult  # noqa: E402
from inward.training.lora import train_lora  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_two_processes_match_gradient_accumulation(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = write_chat_jsonl(
        [
            ChatExample(
                messages=(
                    ChatMessage(role="user", content=f"Name an animal: {i}"),
                    ChatMessage(role="assistant", content=["cat", "dog", "fox"][i % 3]),
                )
            )
            for i in range(16)
        ],
        tmp_path / "d.jsonl",
    )
    ddp_cfg = TrainConfig(lr=1e-2, epochs=2, batch_size=4, device="cpu", checkpoint_every=2)
    src = Path(__file__).resolve().parents[2] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": "1",
    }
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    worker = Path(__file__).with_name("ddp_worker.py")
    args = [str(tiny_model_dir), str(data), str(tmp_path / "ddp"), ddp_cfg.model_dump_json()]
    cmd = [*launcher, "--master_port", str(_free_port()), str(worker), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = TrainResult.model_validate_json((tmp_path / "ddp" / "train.json").read_text())
    assert ddp.provenance["num_processes"] == 2

    single = train_lora(
        tiny_model_dir, data, tmp_path / "one", ddp_cfg.model_copy(update={"grad_accum": 2}), progress=False
    )
    # 16 examples = 4 micro-batches of 4, two per step (one per rank, or both accumulated): 2 steps per epoch.
    assert ddp.steps == single.steps == 4
    assert ddp.train_loss == pytest.approx(single.train_loss, abs=1e-5)
    a = load_file(str(Path(ddp.adapter_dir) / "adapter_model.safetensors"))
    b = load_file(str(Path(single.adapter_dir) / "adapter_model.safetensors"))
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), k
