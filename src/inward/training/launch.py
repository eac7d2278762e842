"""`accelerate launch` for `train_lora`: the accelerate configs shipped with inward, and each process's entry.

    TrainConfig(accelerate_config="fsdp", num_processes=8)     # train_lora then launches itself (below)
    inward train -m local/qwen2.5-0.5b --data d.jsonl --out m1 --accelerate-config fsdp --num-processes 8
    config_path("zero3")        # .../inward/training/accelerate/zero3.yaml; any other value is a file path

`train_lora` given an `accelerate_config` in a plain process writes the (already split) training and
validation examples to ``out_dir/launch/`` and runs

    python -m accelerate.commands.launch --config_file FILE --num_processes N --main_process_port PORT \\
        -m inward.training.launch BASE out_dir/launch/train.jsonl out_dir --val-data ... --config-json ...

then reads the `TrainResult` the main process wrote to ``out_dir/train.json``: the caller gets the same
result as from a run in its own process. Every process runs `train_lora` on the same arguments; only the main
one writes files. Re-running resumes: the processes pick up the newest checkpoint, and a finished run (same
data, settings and process count) is returned without launching anything. A mistake a process reports
(`UserError`) comes back as one line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inward.errors import UserError
from inward.training.chat_data import ChatExample, write_chat_jsonl
from inward.training.config import TrainConfig, TrainResult

CONFIGS = Path(__file__).with_name("accelerate")
NAMED = ("ddp", "fsdp", "zero3")
LAUNCHED_ENV = "INWARD_LAUNCHED"  # set in the processes inward starts, so they train instead of launching
CONFIG_ENV = "INWARD_ACCELERATE_CONFIG"  # the config file they run under (for provenance)
ERROR_FILE = "error.txt"
DEEPSPEED_MISSING = (
    "this accelerate config uses DeepSpeed (ZeRO-3), which is not installed: pip install deepspeed"
)


def launched() -> bool:
    return os.environ.get(LAUNCHED_ENV) == "1"


def config_path(name_or_path: str) -> Path:
    """A shipped config by name (ddp, fsdp, zero3), else the accelerate YAML file at that path."""
    if name_or_path in NAMED:
        return CONFIGS / f"{name_or_path}.yaml"
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise UserError(
            f"accelerate config {name_or_path!r} is neither {', '.join(NAMED)} nor a file; "
            "name a shipped config or write one with `accelerate config`"
        )
    return path.resolve()


def read_config(path: Path) -> dict[str, Any]:
    import yaml

    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UserError(f"cannot read accelerate config {path}: {e}") from None
    if not isinstance(cfg, dict) or "distributed_type" not in cfg:
        raise UserError(f"{path} is not an accelerate config (no distributed_type); see `accelerate config`")
    return cfg


@dataclass(frozen=True)
class LaunchSpec:
    """What `accelerate launch` will run: the config file, its settings and the process count."""

    path: Path
    settings: dict[str, Any]
    num_processes: int

    @property
    def distributed_type(self) -> str:
        return str(self.settings["distributed_type"])

    @property
    def mixed_precision(self) -> str:
        return str(self.settings.get("mixed_precision") or "no")

    @classmethod
    def resolve(cls, config: TrainConfig) -> LaunchSpec:
        assert config.accelerate_config, "resolve() is for configs that name an accelerate config"
        path = config_path(config.accelerate_config)
        settings = read_config(path)
        gpus = _gpu_count()
        n = config.num_processes or int(settings.get("num_processes") or 0)
        n = n if n > 0 else max(gpus, 1)
        if settings["distributed_type"] == "DEEPSPEED":
            import importlib.util

            if importlib.util.find_spec("deepspeed") is None:
                raise UserError(DEEPSPEED_MISSING)
        if gpus and n > gpus and config.device != "cpu":
            raise UserError(f"{n} processes but {gpus} visible GPU(s); pass --num-processes {gpus}")
        return cls(path=path, settings=settings, num_processes=n)


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    spec: LaunchSpec,
    base: Path,
    train: list[ChatExample],
    val: list[ChatExample],
    out: Path,
    config: TrainConfig,
    *,
    progress: bool = True,
) -> TrainResult:
    """Start the training processes, wait for them, return what they wrote."""
    folder = out / "launch"
    shutil.rmtree(folder, ignore_errors=True)
    train_file = write_chat_jsonl(train, folder / "train.jsonl")
    # No validation examples is said explicitly, or the processes would split the training set again.
    val_args = ["--val-data", str(write_chat_jsonl(val, folder / "val.jsonl"))] if val else ["--no-val"]
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(spec.path),
        "--num_processes",
        str(spec.num_processes),
        "--main_process_port",
        str(_free_port()),
        "--quiet",
        "-m",
        "inward.training.launch",
        str(base),
        str(train_file),
        str(out),
        *val_args,
        "--config-json",
        config.model_dump_json(),
        *([] if progress else ["--no-progress"]),
    ]
    import inward

    src = str(Path(inward.__file__).resolve().parents[1])  # the processes import this same inward
    env = {
        **os.environ,
        LAUNCHED_ENV: "1",
        CONFIG_ENV: str(spec.path),
        "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p),
    }
    rc = subprocess.run(cmd, env=env, check=False).returncode
    if rc != 0:
        err = folder / ERROR_FILE
        if err.is_file():
            raise UserError(err.read_text(encoding="utf-8").strip())
        raise UserError(
            f"the {spec.num_processes} training process(es) under {spec.path.name} failed (exit code {rc}); "
            "their output is above. Re-running resumes from the last checkpoint"
        )
    result = TrainResult.model_validate_json((out / "train.json").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m inward.training.launch",
        description="One training process, as `accelerate launch` starts it for train_lora.",
    )
    p.add_argument("base", help="Hugging Face model folder.")
    p.add_argument("data", help="Training chat JSONL.")
    p.add_argument("out", help="Output folder (the main process writes adapter/ and train.json).")
    p.add_argument("--val-data", help="Validation chat JSONL.")
    p.add_argument("--no-val", action="store_true", help="No validation set (and no split of the data).")
    p.add_argument("--config-json", required=True, help="TrainConfig as JSON.")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    os.environ[LAUNCHED_ENV] = "1"
    from inward.training.lora import train_lora

    try:
        config = TrainConfig.model_validate_json(a.config_json)
        val: Any = [] if a.no_val else a.val_data
        train_lora(a.base, a.data, a.out, config, val_data=val, progress=not a.no_progress)
    except UserError as e:
        if int(os.environ.get("RANK", "0")) == 0:
            folder = Path(a.out) / "launch"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ERROR_FILE).write_text(str(e), encoding="utf-8")
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
