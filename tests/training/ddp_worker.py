"""Run by `test_ddp.py` under `torch.distributed.run` (one process per rank, gloo on CPU)."""

from __future__ import annotations

import sys
from pathlib import Path

from inward.training.config import TrainConfig
from inward.training.lora import train_lora

if __name__ == "__main__":
    base, data, out, config_json = sys.argv[1:5]
    train_lora(
        Path(base), Path(data), Path(out), TrainConfig.model_validate_json(config_json), progress=False
    )
