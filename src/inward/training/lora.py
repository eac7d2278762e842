"""Local LoRA fine-tuning on chat JSONL with answer-only loss (PEFT + accelerate; CPU fp32, CUDA bf16).

    from inward.training import TrainConfig, train_lora
    result = train_lora("~/.cache/inward/hf/smollm2-135m", "train.jsonl", "runs/m1-self",
                        TrainConfig(lr=1e-3, epochs=1, checkpoint_every=50))
    result.adapter_dir   # runs/m1-self/adapter  (PeftModel.from_pretrained(base, result.adapter_dir))

What it does: renders each conversation with the base tokenizer's chat template, so answer tokens are
exactly the tokens the model emits after the generation prompt (see `encode.py`); trains a LoRA adapter with
the loss on the answer tokens only, applying the LM head only at those positions (`loss.py`); writes
``out_dir/adapter`` (PEFT ``save_pretrained``) and ``out_dir/train.json`` (config, loss curve, validation
loss before/after, speed, provenance).

Resumable: with ``checkpoint_every=N`` a checkpoint (adapter, optimizer, scheduler, RNG, step, data order)
is written atomically to ``out_dir/checkpoints/`` every N optimizer steps. Calling `train_lora` again with
the same arguments resumes from the newest checkpoint and ends with the same adapter as an uninterrupted
run; calling it after it finished returns the recorded result without training.

Several GPUs: ``TrainConfig(accelerate_config="ddp" | "fsdp" | "zero3" | PATH, num_processes=N)`` makes
`train_lora` start itself under ``accelerate launch`` and return the result the processes wrote
(`inward.training.launch`); a script that calls `train_lora` can also be started directly::

    accelerate launch --config_file "$(python -c 'import inward.training.launch as l; print(l.config_path("fsdp"))')" \
        --num_processes 4 my_train.py
    torchrun --nproc_per_node 2 my_train.py                           # also works; on CPU it uses gloo

Each process takes every world_size-th micro-batch; ``batch_size`` is per process, so one optimizer step
sees ``batch_size * grad_accum * num_processes`` examples. The step's loss is the mean over all its answer
tokens, whichever micro-batch and process they fell in (not a mean of per-batch means), so a step gives the
same gradient however its examples are split. Only the main process writes files. Under FSDP (and ZeRO-3)
the weights are sharded, so the adapter and checkpoints are gathered first (`inward.training.parallel`).
Tested with two CPU processes over gloo, DDP and FSDP2 (per-step loss and adapter equal to one process
accumulating the same micro-batches: tests/training/test_ddp.py, test_fsdp.py); not run on GPUs here, and
ZeRO-3 not run at all (no CUDA).

QLoRA: ``TrainConfig(quantize="4bit")`` loads the frozen base in 4-bit NF4 (`inward.training.qlora`).
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed

from inward._threads import apply_threads
from inward.errors import UserError
from inward.training import parallel
from inward.training._provenance import provenance
from inward.training.chat_data import ChatExample, as_examples, examples_digest
from inward.training.checkpoint import named_trainable_params, read_checkpoint, rng_state, save_checkpoint
from inward.training.config import TrainConfig, TrainResult
from inward.training.encode import Encoded, collate, encode_example, plan_batches, shard
from inward.training.loss import AnswerOnlyLoss, answer_tokens, mean_loss
from inward.training.progress import TrainProgress

DataArg = str | os.PathLike[str] | Iterable[ChatExample]


@dataclass(frozen=True)
class StepInfo:
    """Passed to `on_step` after every optimizer step (e.g. for logging, or to stop a run in tests)."""

    step: int
    total_steps: int
    epoch: int
    loss: float
    lr: float


def _dtype(config: TrainConfig, device: torch.device) -> torch.dtype:
    if config.dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[config.dtype]


def _split_val(
    examples: list[ChatExample], val: list[ChatExample] | None, config: TrainConfig
) -> tuple[list[ChatExample], list[ChatExample]]:
    if val is not None or config.val_fraction == 0:
        return examples, val or []
    order = list(range(len(examples)))
    random.Random(f"inward-val/{config.seed}").shuffle(order)
    k = max(1, round(len(examples) * config.val_fraction))
    held = set(order[:k])
    return [e for i, e in enumerate(examples) if i not in held], [examples[i] for i in sorted(held)]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run_digest(
    base_path: Path,
    init_adapter: Path | None,
    config: TrainConfig,
    train: list[ChatExample],
    val: list[ChatExample],
    *,
    num_processes: int = 1,
    mixed_precision: str = "no",
) -> str:
    parts = [str(base_path), config.digest(), examples_digest(train), examples_digest(val)]
    if init_adapter is not None:
        parts.append(_file_digest(init_adapter / "adapter_model.safetensors"))
    # The process count sets how many examples a step sees and which micro-batches each process takes (a
    # checkpoint cannot be resumed with another); mixed precision changes the numbers. Both are left out at
    # their defaults, so single-process digests are what they always were.
    if num_processes > 1:
        parts.append(f"num_processes={num_processes}")
    if mixed_precision != "no":
        parts.append(f"mixed_precision={mixed_precision}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _load_model(
    base_path: Path, init_adapter: Path | None, config: TrainConfig, device: torch.device, progress: bool
) -> tuple[Any, Any]:
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    bars = hf_logging.is_progress_bar_enabled()
    if not progress:
        hf_logging.disable_progress_bar()
    dtype = _dtype(config, device)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if config.quantize:
        from inward.training import qlora

        kwargs.update(qlora.load_kwargs(config, dtype, device))
    try:
        model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.config.use_cache = False
    if config.quantize:
        model = qlora.prepare(model)
    set_seed(config.seed)  # seeds the new adapter's A matrices and everything random after this point
    if init_adapter is not None:
        # Continue training an existing adapter (e.g. M1 -> MC in the behaviour-change experiment): its own
        # rank, alpha and target modules apply.
        return tokenizer, PeftModel.from_pretrained(model, init_adapter, is_trainable=True)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft calls a transformers method that transformers 5 deprecated; not actionable for users
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return tokenizer, get_peft_model(model, lora)


def _atomic_dir(final: Path, write: Callable[[Path], object]) -> None:
    tmp = final.with_name(f".tmp-{final.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def _finished_result(out_dir: Path, run_digest: str, *, strict: bool = True) -> TrainResult | None:
    path = out_dir / "train.json"
    if not path.is_file():
        return None
    done = TrainResult.model_validate_json(path.read_text())
    if done.run_digest != run_digest:
        if not strict:
            return None
        raise UserError(
            f"{out_dir} already holds a different training run (other data, base model or settings); "
            "use another out_dir or delete it"
        )
    return done if Path(done.adapter_dir).is_dir() else None


def train_lora(
    base_path: str | os.PathLike[str],
    data: DataArg,
    out_dir: str | os.PathLike[str],
    config: TrainConfig | None = None,
    *,
    val_data: DataArg | None = None,
    progress: bool = True,
    on_step: Callable[[StepInfo], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on `data` (chat JSONL path or examples) for the HF model folder `base_path`.

    `val_data` (or `config.val_fraction`) gives a validation set whose answer loss is measured before and
    after training. Re-running with the same arguments resumes from the newest checkpoint in `out_dir`.
    """
    t_call = time.perf_counter()
    config = config or TrainConfig()
    base = Path(base_path).expanduser().resolve()
    if not (base / "config.json").is_file():
        raise UserError(
            f"{base} is not a Hugging Face model folder (no config.json); convert or install it first"
        )
    out = Path(out_dir).expanduser().resolve()
    init = Path(config.init_adapter).expanduser().resolve() if config.init_adapter else None
    if init is not None and not (init / "adapter_model.safetensors").is_file():
        raise UserError(f"{init} is not a PEFT adapter folder (no adapter_model.safetensors)")
    train_ex, val_ex = _split_val(
        as_examples(data), as_examples(val_data) if val_data is not None else None, config
    )
    if not train_ex:
        raise UserError("no training examples: the data file is empty")
    from inward.training import launch

    if config.accelerate_config and not launch.launched():
        # This process only starts the training processes (`accelerate launch`) and reads back their result.
        if on_step is not None:
            raise ValueError("on_step cannot reach the processes started for accelerate_config")
        spec = launch.LaunchSpec.resolve(config)
        digest = _run_digest(
            base,
            init,
            config,
            train_ex,
            val_ex,
            num_processes=spec.num_processes,
            mixed_precision=spec.mixed_precision,
        )
        done = _finished_result(out, digest, strict=False)  # else the processes say what is wrong
        return done or launch.run(spec, base, train_ex, val_ex, out, config, progress=progress)

    acc = parallel.make_accelerator(config)
    kind = parallel.parallel_kind(acc)
    digest = _run_digest(
        base,
        init,
        config,
        train_ex,
        val_ex,
        num_processes=acc.num_processes,
        mixed_precision=acc.mixed_precision,
    )
    done = _finished_result(out, digest)
    if done is not None:
        return done
    if kind == "deepspeed" and config.checkpoint_every:
        raise UserError(
            "checkpoints are not implemented under DeepSpeed: pass --checkpoint-every 0 "
            "(or use --accelerate-config fsdp, which shards the same way and checkpoints)"
        )
    if config.quantize:
        from inward.training import qlora

        qlora.check_environment(config, acc.device, kind)
    apply_threads(f"LoRA training {out.name}")  # the cores other processes leave free (inward._threads)
    tokenizer, model = _load_model(base, init, config, acc.device, progress and acc.is_main_process)
    train_enc = [encode_example(tokenizer, e, config.max_len) for e in train_ex]
    val_enc = [encode_example(tokenizer, e, config.max_len) for e in val_ex]
    lengths = [len(e.input_ids) for e in train_enc]
    micro_per_epoch = len(
        shard(plan_batches(lengths, config.batch_size, 0, 0), acc.process_index, acc.num_processes)
    )
    steps_per_epoch = math.ceil(micro_per_epoch / config.grad_accum)
    total_steps = steps_per_epoch * config.epochs

    from transformers import get_scheduler

    loss_fn = AnswerOnlyLoss(model)
    if kind in ("single", "ddp"):
        # Under FSDP and ZeRO-3 placement is the sharding's: moving the whole base onto one GPU first is
        # what they exist to avoid.
        loss_fn = loss_fn.to(acc.device)
    trainable = named_trainable_params(model)
    optimizer = torch.optim.AdamW(trainable.values(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = get_scheduler(
        config.lr_scheduler,
        optimizer,
        num_warmup_steps=math.ceil(config.warmup_ratio * total_steps),
        num_training_steps=total_steps,
    )
    # The scheduler is stepped by hand once per optimizer step, so it is not handed to accelerate.
    loss_fn, optimizer = acc.prepare(loss_fn, optimizer)

    ckpt_root = out / "checkpoints"
    ckpt = read_checkpoint(ckpt_root, digest)
    state = ckpt.state if ckpt else None
    if ckpt:
        parallel.load_trainable(acc, loss_fn, ckpt.weights)
        parallel.load_optimizer_state(acc, loss_fn, optimizer, ckpt.optimizer_state)
        scheduler.load_state_dict(ckpt.scheduler_state)
        ckpt.restore_rng(acc.process_index)
    start_step = int(state["step"]) if state else 0
    losses: list[float] = list(state["train_loss"]) if state else []
    val_batches = [
        collate(val_enc[s : s + config.batch_size], tokenizer.pad_token_id)
        for s in range(0, len(val_enc), config.batch_size)
    ]
    if state:
        val_before = state["val_loss_before"]
    else:
        val_before = mean_loss(loss_fn, val_batches, acc.device) if val_batches else None

    t_loop = time.perf_counter()
    seen = 0
    step = start_step
    bar = TrainProgress(total_steps, enabled=progress and acc.is_main_process, done=start_step)
    with bar:
        for epoch in range(start_step // steps_per_epoch, config.epochs):
            plan = plan_batches(lengths, config.batch_size, config.seed, epoch, config.group_by_length)
            if state and state["epoch"] == epoch and plan != state["epoch_data_order"]:
                raise RuntimeError("the data order of the resumed epoch differs from the checkpoint's")
            mine = shard(plan, acc.process_index, acc.num_processes)
            groups = [mine[s : s + config.grad_accum] for s in range(0, len(mine), config.grad_accum)]
            for group in groups[step - epoch * steps_per_epoch :]:
                loss = _optimizer_step(
                    acc, loss_fn, optimizer, scheduler, group, train_enc, tokenizer, config
                )
                step += 1
                n_ex = int(acc.reduce(torch.tensor(sum(map(len, group)), device=acc.device), "sum"))
                seen += n_ex
                losses.append(loss)
                bar.update(loss=loss, examples=n_ex, elapsed=time.perf_counter() - t_loop)
                if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total_steps:
                    _checkpoint(
                        acc,
                        ckpt_root,
                        loss_fn,
                        optimizer,
                        scheduler,
                        digest,
                        step,
                        epoch,
                        losses,
                        val_before,
                        plan,
                    )
                if on_step is not None:
                    on_step(StepInfo(step, total_steps, epoch, loss, scheduler.get_last_lr()[0]))
    train_time = time.perf_counter() - t_loop

    val_after = mean_loss(loss_fn, val_batches, acc.device) if val_batches else None
    result = TrainResult(
        adapter_dir=str(out / "adapter"),
        out_dir=str(out),
        base_path=str(base),
        config=config,
        run_digest=digest,
        steps=step,
        n_train=len(train_ex),
        n_val=len(val_ex),
        n_truncated=sum(e.truncated for e in train_enc),
        train_loss=losses,
        val_loss_before=val_before,
        val_loss_after=val_after,
        resumed_from_step=start_step,
        wall_time_s=0.0,
        train_time_s=train_time,
        examples_per_s=seen / train_time if train_time > 0 else 0.0,
        provenance={
            **provenance("torch", "transformers", "peft", "accelerate", *_extra_packages(config, kind)),
            "device": str(acc.device),
            "num_processes": acc.num_processes,
            "parallel": parallel.describe(acc),
            **({"accelerate_config": os.environ.get(launch.CONFIG_ENV)} if launch.launched() else {}),
            **({"quantization": _quantization(config, acc.device)} if config.quantize else {}),
        },
    )
    weights = parallel.trainable_state(acc, loss_fn)  # a collective under FSDP: every process gathers
    acc.wait_for_everyone()
    result.wall_time_s = time.perf_counter() - t_call
    if acc.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        peft_model = acc.unwrap_model(loss_fn).model

        def write_adapter(folder: Path) -> None:
            peft_model.save_pretrained(folder, state_dict=weights)
            if config.quantize:
                from inward.training import qlora

                qlora.write_marker(folder, result.provenance["quantization"])

        _atomic_dir(out / "adapter", write_adapter)
        tmp = out / "train.json.tmp"
        tmp.write_text(result.model_dump_json(indent=2))
        os.replace(tmp, out / "train.json")
        if not config.keep_checkpoints:
            shutil.rmtree(ckpt_root, ignore_errors=True)
    acc.wait_for_everyone()
    return result


def _optimizer_step(
    acc: Accelerator,
    loss_fn: torch.nn.Module,
    optimizer: Any,
    scheduler: Any,
    group: Sequence[list[int]],
    encoded: list[Encoded],
    tokenizer: Any,
    config: TrainConfig,
) -> float:
    """Forward/backward over the micro-batches of one optimizer step; returns the step's loss.

    Every answer token of the step weighs the same, across micro-batches and processes: the step's tokens are
    counted first (summed over processes), then each micro-batch backpropagates its summed loss divided by
    that total. DDP averages gradients over processes, so the loss is also multiplied by the process count;
    the gradient is then that of the mean loss over all the step's answer tokens, as if they were one batch.
    The returned loss is that token-weighted mean. Gradients are synchronised only on the last micro-batch.
    accelerate (and DeepSpeed) divide the loss by their gradient-accumulation count, which is undone here;
    it is 1 except under DeepSpeed, which steps its optimizer itself at the last micro-batch."""
    loss_fn.train()
    batches = [collate([encoded[i] for i in idx], tokenizer.pad_token_id) for idx in group]
    local_tokens = torch.tensor(sum(answer_tokens(b["labels"]) for b in batches), device=acc.device)
    total_tokens = max(int(acc.reduce(local_tokens, "sum")), 1)
    scale = acc.num_processes * acc.gradient_accumulation_steps / total_tokens
    loss_total = 0.0
    for j, cpu_batch in enumerate(batches):
        batch = {k: v.to(acc.device) for k, v in cpu_batch.items()}
        sync = j == len(batches) - 1
        acc.sync_gradients = sync  # DeepSpeed's step boundary; accelerate's optimizer steps only when True
        with nullcontext() if sync else acc.no_sync(loss_fn):
            loss_sum, _ = loss_fn(**batch)
            acc.backward(loss_sum * scale)
        loss_total += float(loss_sum.detach())
    if config.max_grad_norm is not None:
        acc.clip_grad_norm_(loss_fn.parameters(), config.max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    summed = acc.reduce(torch.tensor(loss_total, dtype=torch.float64, device=acc.device), "sum")
    return float(summed) / total_tokens


def _checkpoint(
    acc: Accelerator,
    root: Path,
    loss_fn: torch.nn.Module,
    optimizer: Any,
    scheduler: Any,
    digest: str,
    step: int,
    epoch: int,
    losses: list[float],
    val_before: float | None,
    plan: list[list[int]],
) -> None:
    rngs = gather_object([rng_state()]) if acc.num_processes > 1 else [rng_state()]
    # Collectives under FSDP: every process takes part, the main process gets the full tensors.
    weights = parallel.trainable_state(acc, loss_fn)
    optimizer_state = parallel.optimizer_state(acc, loss_fn, optimizer)
    if acc.is_main_process:
        state = {
            "run_digest": digest,
            "step": step,
            "epoch": epoch,
            "train_loss": losses,
            "val_loss_before": val_before,
            "epoch_data_order": plan,
        }
        save_checkpoint(
            root,
            state,
            weights=weights,
            optimizer_state=optimizer_state,
            scheduler_state=scheduler.state_dict(),
            rng_states=rngs,
        )
    acc.wait_for_everyone()


def _extra_packages(config: TrainConfig, kind: str) -> list[str]:
    return [*(["bitsandbytes"] if config.quantize else []), *(["deepspeed"] if kind == "deepspeed" else [])]


def _quantization(config: TrainConfig, device: torch.device) -> dict[str, Any]:
    from inward.training import qlora

    return qlora.record(config, _dtype(config, device))
