"""Resumable training checkpoints, written atomically into ``out_dir/checkpoints/step-NNNNNNNN/``.

A checkpoint holds everything that decides the rest of the run: the trainable (LoRA) weights, the optimizer
and LR-scheduler states, every RNG state (python, numpy, torch, CUDA), the step reached, the loss curve so
far and the epoch's data order. It is written into a temporary folder and renamed into place, so a crash
never leaves a half-written checkpoint that a later run would load. Only the newest checkpoints are kept.

    save_checkpoint(ckpt_root, state, trainable=named_trainable_params(model), optimizer=opt, scheduler=sched,
                    rng_states=[rng_state()])
    state = load_checkpoint(ckpt_root, run_digest, trainable=..., optimizer=opt, scheduler=sched)  # or None
"""

from __future__ import annotations

import json
import os
import random
import shutil
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
    trainable: dict[str, torch.nn.Parameter],
    optimizer: Any,
    scheduler: Any,
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
        {n: p.detach().cpu().contiguous() for n, p in trainable.items()}, str(tmp / "trainable.safetensors")
    )
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
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


def load_checkpoint(
    root: Path,
    run_digest: str,
    *,
    trainable: dict[str, torch.nn.Parameter],
    optimizer: Any,
    scheduler: Any,
    rank: int = 0,
) -> dict[str, Any] | None:
    """Restore the newest checkpoint of this run into the given objects and return its state; None when
    there is no checkpoint. Checkpoints of a different run (other data, base or settings) are an error."""
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
    weights = load_file(str(path / "trainable.safetensors"))
    if set(weights) != set(trainable):
        raise RuntimeError(f"checkpoint {path} does not match the model's trainable parameters")
    with torch.no_grad():
        for n, p in trainable.items():
            p.copy_(weights[n].to(p.device, p.dtype))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    rngs = torch.load(path / "rng.pt", weights_only=False)
    _set_rng_state(rngs[rank] if rank < len(rngs) else rngs[0])
    return state
