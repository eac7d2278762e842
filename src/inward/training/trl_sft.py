"""The same LoRA fine-tune through TRL's ``SFTTrainer``: a benchmark reference point, not the tool's path.

    from inward.training.trl_sft import train_with_trl
    run = train_with_trl(base_folder, "train.jsonl", "runs/trl", TrainConfig(lr=1e-3))
    run.examples_per_s

The chat JSONL rows become TRL's conversational prompt-completion rows (prompt = the messages before the last
trained assistant message, completion = that message), so TRL computes the loss on the answer only
(``completion_only_loss``, its default for such rows). TRL can express one completion per row: earlier
assistant turns stay in the prompt without loss. Everything else is TRL's default, with our LoRA settings,
batch size, learning rate, schedule, epochs, clipping, max length and seed; pass ``gradient_checkpointing`` to
override TRL's default (on). Needs the `train` extra (``pip install 'inward[train]'``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import BaseModel

from inward.errors import MissingExtraError
from inward.training.chat_data import ChatExample, as_examples
from inward.training.config import TrainConfig


class TrlRun(BaseModel):
    steps: int
    n_train: int
    train_loss: list[float]
    train_time_s: float  # trainer.train() only
    setup_time_s: float  # model load + dataset tokenisation inside SFTTrainer
    examples_per_s: float
    gradient_checkpointing: bool
    trl_version: str


def to_prompt_completion(example: ChatExample) -> dict[str, Any]:
    last = example.last_trained_index
    msgs = [{"role": m.role, "content": m.content} for m in example.messages[: last + 1]]
    return {"prompt": msgs[:-1], "completion": msgs[-1:]}


def train_with_trl(
    base_path: str | os.PathLike[str],
    data: str | os.PathLike[str] | list[ChatExample],
    out_dir: str | os.PathLike[str],
    config: TrainConfig | None = None,
    *,
    gradient_checkpointing: bool | None = None,
    progress: bool = False,
) -> TrlRun:
    try:
        import torch
        import trl
        from datasets import Dataset
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import SFTConfig, SFTTrainer
    except ImportError as e:
        raise MissingExtraError("the TRL comparison", "train") from e

    config = config or TrainConfig()
    examples = as_examples(data)
    t0 = time.perf_counter()
    cuda = torch.cuda.is_available() and config.device != "cpu"
    extra: dict[str, Any] = {}
    if gradient_checkpointing is not None:
        extra["gradient_checkpointing"] = gradient_checkpointing
    args = SFTConfig(
        output_dir=str(out_dir),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        lr_scheduler_type=config.lr_scheduler,
        # transformers >= 5 takes the warm-up ratio as a float in [0, 1) here; our ratio 1.0 means all steps.
        warmup_steps=min(config.warmup_ratio, 0.999),
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm or 0.0,
        num_train_epochs=config.epochs,
        max_length=config.max_len,
        seed=config.seed,
        use_cpu=not cuda,
        bf16=cuda,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=not progress,
        **extra,
    )
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.bfloat16 if cuda else torch.float32)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    dataset = Dataset.from_list([to_prompt_completion(e) for e in examples])
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=lora
    )
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    out = trainer.train()
    train_time = time.perf_counter() - t1
    losses = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
    return TrlRun(
        steps=int(out.global_step),
        n_train=len(examples),
        train_loss=losses,
        train_time_s=train_time,
        setup_time_s=setup,
        examples_per_s=len(examples) * config.epochs / train_time,
        gradient_checkpointing=bool(args.gradient_checkpointing),
        trl_version=trl.__version__,
    )
