"""Trained adapters in the store: train one, register it, and resolve `+adapter=NAME` refs to folders."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inward.errors import UserError
from inward.refs import ModelRef

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
# A trained model's name becomes a folder under models/ and the NAME of `BASE+adapter=NAME`.
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def adapter_resolver(store: Any) -> Callable[[str], Path]:
    def resolve(name: str) -> Path:
        rec = store.get_model(name)
        if rec is None or rec.path is None:
            raise UserError(f"no trained adapter named {name!r} in {store.path.parent}; see `inward train`")
        return check_adapter_folder(Path(rec.path), name=name)

    return resolve


def check_adapter_folder(path: Path, *, name: str | None = None) -> Path:
    """`path` if it is a complete PEFT adapter folder; a UserError before any base model is loaded otherwise.

    Complete: a JSON-object adapter_config.json and a weights file that is not empty or cut short (for
    safetensors, the header's tensor offsets must add up to the file's size)."""
    what = f"adapter {name!r} ({path})" if name else f"adapter folder {path}"
    redo = "train it again with `inward train` (it resumes from its last checkpoint)"
    if not path.is_dir():
        raise UserError(f"{what} is missing or not a folder; {redo}")
    try:
        config = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{what} has no {ADAPTER_CONFIG}: it is not a finished PEFT adapter; {redo}"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{what}: {ADAPTER_CONFIG} is unreadable ({e}); {redo}") from None
    if not isinstance(config, dict):
        raise UserError(f"{what}: {ADAPTER_CONFIG} is not a JSON object; {redo}")
    weights = next((path / f for f in ADAPTER_WEIGHTS if (path / f).is_file()), None)
    if weights is None:
        raise UserError(f"{what} has no {' or '.join(ADAPTER_WEIGHTS)}; {redo}")
    problem = _weights_problem(weights)
    if problem:
        raise UserError(f"{what}: {weights.name} {problem}; {redo}")
    return path


def _weights_problem(weights: Path) -> str | None:
    size = weights.stat().st_size
    if size == 0:
        return "is empty"
    if weights.suffix != ".safetensors":
        return None
    with weights.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return "is cut short"
        (n,) = struct.unpack("<Q", head)
        if 8 + n > size:
            return "is cut short"
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, ValueError):
            return "has a broken header"
    if not isinstance(header, dict):
        return "has a broken header"
    ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    if 8 + n + max(ends, default=0) > size:
        return "is cut short"
    return None


def check_trained_name(name: str) -> str:
    if not _NAME.match(name) or name in (".", ".."):
        raise UserError(
            f"bad model name {name!r}: use letters, digits, '_', '.' and '-' (it becomes BASE+adapter={name})"
        )
    return name


def train_and_register(
    store: Any,
    *,
    name: str,
    base: str,
    data: str | Path,
    plan: dict[str, Any],
    seed: int = 0,
    init_adapter: str | None = None,
    val_data: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune a LoRA adapter for the local model `base` on chat JSONL `data`; register it as `name`.

    Returns the new model's ref (`<base>+adapter=<name>`) and the training figures. Resumable: re-running the same
    call continues from the last checkpoint (or returns at once when training had finished).
    """
    from pydantic import ValidationError

    from inward import models
    from inward.store import ModelRecord
    from inward.training.chat_data import load_chat_jsonl
    from inward.training.config import TrainConfig

    # Everything the user can get wrong is checked before the base model is installed or loaded.
    ref = ModelRef.parse(base)
    if ref.provider not in ("local", "hf") or ref.adapter is not None:
        raise UserError(f"local training needs a local base model without an adapter, got {base}")
    if ref.provider == "local":
        models.get(ref.name)  # an unknown bundled name fails here, listing the known ones
    check_trained_name(name)
    load_chat_jsonl(data)  # bad lines are named by number
    if val_data is not None:
        load_chat_jsonl(val_data)
    cfg: dict[str, Any] = {**plan, "seed": seed}
    if init_adapter is not None:
        cfg["init_adapter"] = str(
            adapter_resolver(store)(init_adapter)
            if not Path(init_adapter).exists()
            else check_adapter_folder(Path(init_adapter))
        )
    try:
        config = TrainConfig(**cfg)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise UserError(f"bad training setting {where}: {err['msg']}") from None
    from inward.training.lora import train_lora

    out_dir = store.path.parent / "models" / name
    result = train_lora(
        models.resolve(ref), Path(data), out_dir, config, val_data=val_data, progress=progress
    )
    store.register_model(
        ModelRecord(
            name=name,
            base_ref=str(ref),
            kind="lora",
            path=result.adapter_dir,
            config=config.model_dump(mode="json"),
            provenance={**result.provenance, "data": str(data)},
        )
    )
    return {
        "ref": str(ref.with_adapter(name)),
        "name": name,
        "adapter_dir": result.adapter_dir,
        "n_train": result.n_train,
        "steps": result.steps,
        "train_time_s": round(result.train_time_s, 1),
        "examples_per_s": round(result.examples_per_s, 2),
        "val_loss_before": result.val_loss_before,
        "val_loss_after": result.val_loss_after,
        "final_train_loss": result.train_loss[-1] if result.train_loss else None,
        "resumed_from_step": result.resumed_from_step,
    }
