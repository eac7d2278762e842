"""Fine-tuning: one chat-JSONL data format; local LoRA, OpenAI and Together fine-tuning behind one `Trainer`.

    from inward.training import LocalLoraTrainer, OpenAIFineTuner, TrainConfig, load_chat_jsonl
    model = LocalLoraTrainer().fit(Path("m1-self.jsonl"), "local/smollm2-135m", TrainConfig(), name="m1-self",
                                   out_dir=Path("runs/m1-self"))
    model.ref   # "local/smollm2-135m+adapter=m1-self"

`train_lora` (the local trainer itself) and `train_with_trl` (TRL's SFTTrainer, for benchmarks only) import
torch; they are loaded on first use so that reading configs, validating data and hosted fine-tuning (OpenAI,
Together) work without the `local` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inward.training._hosted import FineTuneFailed
from inward.training.base import TrainedModel, Trainer
from inward.training.chat_data import (
    ChatExample,
    ChatMessage,
    load_chat_jsonl,
    validate_chat_jsonl,
    write_chat_jsonl,
)
from inward.training.config import TrainConfig, TrainResult
from inward.training.local import LocalLoraTrainer
from inward.training.openai_ft import OpenAIFineTuner, OpenAIFTConfig
from inward.training.together_ft import TogetherFineTuner, TogetherFTConfig

if TYPE_CHECKING:
    from inward.training.lora import StepInfo, train_lora

_LAZY = {"train_lora": "inward.training.lora", "StepInfo": "inward.training.lora"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        try:
            module = importlib.import_module(_LAZY[name])
        except ImportError as e:
            from inward.errors import MissingExtraError

            raise MissingExtraError("local training", "local") from e
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ChatExample",
    "ChatMessage",
    "FineTuneFailed",
    "LocalLoraTrainer",
    "OpenAIFTConfig",
    "OpenAIFineTuner",
    "StepInfo",
    "TogetherFTConfig",
    "TogetherFineTuner",
    "TrainConfig",
    "TrainResult",
    "TrainedModel",
    "Trainer",
    "load_chat_jsonl",
    "train_lora",
    "validate_chat_jsonl",
    "write_chat_jsonl",
]
