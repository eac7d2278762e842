"""Resumable training checkpoints, written atomically into ``out_dir/checkpoints/step-NNNNNNNN/``.

A checkpoint holds everything that decides the rest of the run: the trainable (LoRA) weights, the optimizer
and LR-scheduler states, every RNG state (python, numpy, torch, CUDA), the step reached, the loss curve so
far and the epoch's data order. It is written into a temporary folder and renamed into place, so a crash
never leaves a half-written checkpoint that a later run would load. Only the newest checkpoints are kept.

    save_checkpoint(ckpt_root, state, weights=trainable_state(acc, loss_fn),
                    optimizer_state=..., scheduler_state=sched.state_dict(), rng_states=[rng_state()])
    ckpt = read_checkpoint(ckpt_root, run_digest)   # a Checkpoint, or None; the caller loads it into its objects

The weights are the trainable parameters' full values and the optimizer state is whatever
`inward.training.parallel` gathered, so one format serves one process, DDP and FSDP alike.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

KEEP = 2  # checkpoints kept on disk; older ones are deleted once a newer one is complete
STATE_FILE = "state.json"


def named_trainable_params(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def rng_state() -> dict[str, Any]:
    """This process's RNG states (gather them from every process before saving under data parallelism)."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(s: dict[str, Any]) -> None:
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])
    if s["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def save_checkpoint(
    root: Path,
    state: dict[str, Any],
    *,
    weights: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    scheduler_state: dict[str, Any],
    rng_states: list[dict[str, Any]],
) -> Path:
    """Write checkpoint `state["step"]` atomically; `state` must be JSON-serialisable (it gets the run digest,
    step, loss curve and data order). `rng_states` holds one entry per process, in rank order."""
    step = int(state["step"])
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-step-{step:08d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(
        {n: p.detach().cpu().contiguous() for n, p in weights.items()}, str(tmp / "trainable.safetensors")
    )
    torch.save(optimizer_state, tmp / "optimizer.pt")
    torch.save(scheduler_state, tmp / "scheduler.pt")
    torch.save(rng_states, tmp / "rng.pt")
    (tmp / STATE_FILE).write_text(json.dumps(state))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in sorted(root.glob("step-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    done = sorted(p for p in root.glob("step-*") if (p / STATE_FILE).is_file())
    return done[-1] if done else None


@dataclass
class Checkpoint:
    state: dict[str, Any]
    weights: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any]
    rng_states: list[dict[str, Any]]

    def restore_rng(self, rank: int = 0) -> None:
        """Set this process's RNG states as they were when the checkpoint was written."""
        _set_rng_state(self.rng_states[rank] if rank < len(self.rng_states) else self.rng_states[0])


def read_checkpoint(root: Path, run_digest: str) -> Checkpoint | None:
    """The newest checkpoint of this run; None when there is none. Checkpoints of a different run (other
    data, base or settings) are an error."""
    path = latest_checkpoint(root)
    if path is None:
        return None
    state: dict[str, Any] = json.loads((path / STATE_FILE).read_text())
    if state.get("run_digest") != run_digest:
        from inward.errors import UserError

        raise UserError(
            f"{root} holds checkpoints of a different training run (other data, base model or settings); "
            "use another out_dir or delete that folder"
        )
    return Checkpoint(
        state=state,
        weights=load_file(str(path / "trainable.safetensors")),
        optimizer_state=torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False),
        scheduler_state=torch.load(path / "scheduler.pt", weights_only=False),
        rng_states=torch.load(path / "rng.pt", weights_only=False),
    )
