"""How `train_lora` runs in one process, data-parallel (DDP), sharded (FSDP2) or under DeepSpeed ZeRO-3.

    acc = make_accelerator(config)           # reads what `accelerate launch` put in the environment
    parallel_kind(acc)                       # "single" | "ddp" | "fsdp" | "deepspeed"
    weights = trainable_state(acc, loss_fn)  # the adapter's full tensors on the main process ({} elsewhere)

Under DDP every process holds the whole model. Under FSDP and ZeRO-3 each holds a shard of every weight, so
reading the adapter or the optimizer state is a collective: every process calls these functions and the
main process gets the full tensors (torch.distributed.checkpoint's full-state-dict API, trainable parameters
only, so a 70B base is never gathered). Checkpoints therefore have one format whatever the sharding: the
adapter's full weights keyed by their PEFT names, and the optimizer state (FSDP: keyed by parameter name).

FSDP on CPU: accelerate 1.16 turns an FSDP config into FSDP only on accelerators (in `AcceleratorState` the
FSDP branch sits under ``distributed_type in [MULTI_GPU, MULTI_NPU, ...]``); on CPU it runs the config as
plain DDP (MULTI_CPU) without a word. We apply the FSDP plugin ourselves there, so the CPU test runs the same
sharded code path (FSDP2 over gloo) as GPUs do. FSDP version 1 on CPU also needs the device to be ``cpu``,
not accelerate's ``cpu:0`` (torch: "Inconsistent compute device and `device_id` on rank 0: cpu vs cpu:0").
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Literal

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType

from inward.errors import UserError
from inward.training.config import TrainConfig
from inward.training.launch import DEEPSPEED_MISSING

ParallelKind = Literal["single", "ddp", "fsdp", "deepspeed"]
_PREFIX = "model."  # `AnswerOnlyLoss` holds the PEFT model as `.model`


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "false").lower() in ("1", "true", "yes")


def make_accelerator(config: TrainConfig) -> Accelerator:
    """The `Accelerator` for this process: single, or what `accelerate launch` / torchrun set up."""
    cuda = torch.cuda.is_available()
    if config.device == "cuda" and not cuda:
        raise UserError("device='cuda' but no CUDA GPU is visible; use device='cpu' or 'auto'")
    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1
    # accelerate only takes the CPU (gloo) route when told to; without it, a launched process on a machine
    # without GPUs would train alone (distributed type NO) and every process would write the files.
    cpu = config.device == "cpu" or (config.device == "auto" and launched and not cuda)
    kwargs: dict[str, Any] = {}
    if _env_flag("ACCELERATE_USE_DEEPSPEED"):
        if cpu:
            raise UserError(
                "the zero3 (DeepSpeed) config needs CUDA GPUs; on CPU use --accelerate-config fsdp"
            )
        if importlib.util.find_spec("deepspeed") is None:
            raise UserError(DEEPSPEED_MISSING)
        # DeepSpeed steps its optimizer itself, every `gradient_accumulation_steps` micro-batches.
        kwargs["gradient_accumulation_steps"] = config.grad_accum
    acc = Accelerator(cpu=cpu, **kwargs)
    if cpu and _env_flag("ACCELERATE_USE_FSDP") and acc.distributed_type == DistributedType.MULTI_CPU:
        _fsdp_on_cpu(acc)
    if acc.distributed_type == DistributedType.DEEPSPEED:
        ds = acc.state.deepspeed_plugin.deepspeed_config
        # No dataloader goes through `prepare`, so the batch size is set here; clipping is DeepSpeed's.
        ds["train_micro_batch_size_per_gpu"] = config.batch_size
        ds["gradient_clipping"] = config.max_grad_norm or 0.0
    return acc


def _fsdp_on_cpu(acc: Accelerator) -> None:
    from accelerate.state import PartialState
    from accelerate.utils import FullyShardedDataParallelPlugin

    plugin = FullyShardedDataParallelPlugin()  # reads the FSDP_* variables `accelerate launch` set
    # As accelerate does on GPUs, the process state says FSDP too: every later `AcceleratorState()` copies
    # the process state over the accelerator's.
    for shared in (PartialState._shared_state, acc.state.__dict__):
        shared["distributed_type"] = DistributedType.FSDP
        if plugin.fsdp_version == 1:
            shared["device"] = torch.device("cpu")
    acc.state.fsdp_plugin = plugin


def parallel_kind(acc: Accelerator) -> ParallelKind:
    if acc.distributed_type == DistributedType.FSDP:
        return "fsdp"
    if acc.distributed_type == DistributedType.DEEPSPEED:
        return "deepspeed"
    return "ddp" if acc.num_processes > 1 else "single"


def describe(acc: Accelerator) -> dict[str, Any]:
    """What ran, for provenance."""
    kind = parallel_kind(acc)
    out: dict[str, Any] = {"kind": kind, "mixed_precision": acc.mixed_precision}
    if kind == "fsdp":
        out["fsdp_version"] = acc.state.fsdp_plugin.fsdp_version
    if kind == "deepspeed":
        out["zero_stage"] = acc.state.deepspeed_plugin.zero_stage
    return out


def trainable_state(acc: Accelerator, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Full values of the trainable parameters, on the CPU, keyed by their names in the PEFT model; on the
    main process (other processes get an empty dict under FSDP and DeepSpeed). Every process must call it."""
    kind = parallel_kind(acc)
    if kind == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True)
        sd = get_model_state_dict(module, options=opts)
        if not acc.is_main_process:
            return {}
        # Copies: on CPU the gathered values can share storage with the unsharded parameters, which FSDP
        # frees after the next forward ("Attempted to access the data pointer on an invalid python storage").
        return {k.removeprefix(_PREFIX): v.clone() for k, v in sd.items() if isinstance(v, torch.Tensor)}
    peft_model = acc.unwrap_model(module).model
    named = [(n, p) for n, p in peft_model.named_parameters() if p.requires_grad]
    if kind == "deepspeed":
        import deepspeed

        with deepspeed.zero.GatheredParameters([p for _, p in named]):
            return {n: p.detach().cpu().clone() for n, p in named} if acc.is_main_process else {}
    return {n: p.detach().cpu().contiguous() for n, p in named}


def load_trainable(acc: Accelerator, module: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Set the trainable parameters from full values (`trainable_state`'s output), on every process."""
    kind = parallel_kind(acc)
    if kind == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        full: dict[str, Any] = {_PREFIX + k: v for k, v in weights.items()}
        set_model_state_dict(module, full, options=StateDictOptions(full_state_dict=True, strict=False))
        return
    assert kind != "deepspeed", "checkpoints under DeepSpeed are refused before training starts"
    peft_model = acc.unwrap_model(module).model
    params = {n: p for n, p in peft_model.named_parameters() if p.requires_grad}
    if set(weights) != set(params):
        raise RuntimeError("the checkpoint does not match the model's trainable parameters")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n].to(p.device, p.dtype))


def optimizer_state(acc: Accelerator, module: torch.nn.Module, optimizer: Any) -> dict[str, Any]:
    """The optimizer's state in full (under FSDP on the main process only; every process must call it)."""
    if parallel_kind(acc) == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        from torch.utils._pytree import tree_map

        osd = get_optimizer_state_dict(module, optimizer.optimizer, options=opts)
        copied: dict[str, Any] = tree_map(lambda v: v.clone() if isinstance(v, torch.Tensor) else v, osd)
        return copied
    return dict(optimizer.state_dict())


def load_optimizer_state(
    acc: Accelerator, module: torch.nn.Module, optimizer: Any, osd: dict[str, Any]
) -> None:
    if parallel_kind(acc) == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        set_optimizer_state_dict(
            module, optimizer.optimizer, osd, options=StateDictOptions(full_state_dict=True)
        )
        return
    optimizer.load_state_dict(osd)
