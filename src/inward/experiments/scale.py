"""GPU-hours and storage of an experiment at scale, from its plan: `inward plan EXP --gpu h100 --gpus 8`.

    plan = make_plan(cfg, workspace)
    est = estimate_scale(plan, gpu="h100", gpus=8, sizes={"hf/llama-3.1-8b": model_size(config_json)})
    print("\n".join(est.lines()))

The rows come from the plan (every step of every seed, from scratch). The rest is arithmetic on stated
assumptions, not a measurement, and is printed with them:

- tokens per row: the prompts of the plan's tasks rendered with the model's own tokenizer and chat template when
  its folder has one (else a bundled model's tokenizer as a proxy, which the output says); answers at their
  token budget (`max_tokens`: greedy answers usually stop earlier, so this errs long);
- compute: 2·N FLOPs per prompt token and per answer token, 4·N per training token (LoRA: the frozen weights
  get no gradients, the activations do), at `MFU` of the card's dense bf16 peak; answer tokens are also bounded
  by reading the weights once per decoding step of a batch of `DECODE_BATCH` sequences at `HBM_UTIL` of the
  memory bandwidth (the slower of the two bounds counts);
- storage: base weights (bf16), one LoRA adapter per training step (fp32, the planned rank, on q, k, v and o as
  the trainer's default), and the store's rows at `STORE_BYTES_PER_ROW`.
Numbers of the cards are the vendors' data-sheet values for dense bf16 (no sparsity) and HBM bandwidth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inward.errors import UserError


@dataclass(frozen=True)
class GPU:
    name: str
    bf16_flops: float  # dense, per second
    hbm_bytes_s: float
    memory_bytes: float


GPUS: dict[str, GPU] = {
    "a100": GPU("A100 80GB SXM", 312e12, 2.039e12, 80e9),
    "h100": GPU("H100 SXM", 989e12, 3.35e12, 80e9),
    "h200": GPU("H200 SXM", 989e12, 4.8e12, 141e9),
}
MFU = {"prefill": 0.5, "decode": 0.5, "train": 0.35}
HBM_UTIL = 0.6
DECODE_BATCH = 64
STORE_BYTES_PER_ROW = 2000
"""Bytes of the store per behaviour row (its object-level, hypothetical or distribution row with the cached
call behind it): the quick demo's store held 300 kB in those four tables for 156 rows (1.9 kB a row; SQLite's
4 kB pages make a store this small look larger per row, so this errs high)."""
TRAIN_ANSWER_TOKENS = 4  # a hypothetical answer is a word or a letter, plus the end-of-turn token


@dataclass(frozen=True)
class ModelSize:
    """A decoder-only transformer's shape (a Hugging Face config.json of the Llama/Qwen/Mistral family)."""

    params: float
    layers: int
    hidden: int
    intermediate: int
    kv_dim: int

    def lora_params(self, rank: int, *, mlp: bool = False) -> int:
        """Parameters of a rank-`rank` adapter on q, k, v and o of every layer (the trainer's default targets),
        and with `mlp` on gate, up and down too."""
        d, f, kv = self.hidden, self.intermediate, self.kv_dim
        shapes = [(d, d), (d, kv), (d, kv), (d, d)] + ([(d, f), (d, f), (f, d)] if mlp else [])
        return self.layers * sum(rank * (a + b) for a, b in shapes)


def model_size(config: Mapping[str, Any]) -> ModelSize:
    """The shape and parameter count from a config.json's fields."""
    try:
        d, layers = int(config["hidden_size"]), int(config["num_hidden_layers"])
        f, vocab = int(config["intermediate_size"]), int(config["vocab_size"])
        heads = int(config["num_attention_heads"])
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(
            f"config.json lacks {e} (need hidden_size, num_hidden_layers, ...); pass --params"
        ) from None
    kv_heads = int(config.get("num_key_value_heads") or heads)
    kv = kv_heads * int(config.get("head_dim") or d // heads)
    per_layer = 2 * d * d + 2 * d * kv + 3 * d * f + 2 * d  # attention, MLP, two norms
    embed = vocab * d * (1 if config.get("tie_word_embeddings") else 2)
    return ModelSize(float(layers * per_layer + embed + d), layers, d, f, kv)


def size_from_params(params: float) -> ModelSize:
    """A shape for a bare parameter count (storage of adapters then uses a Llama-like aspect ratio)."""
    hidden = int(128 * round((params / 12 / 32) ** 0.5 / 128)) or 128
    layers = max(1, round(params / (12 * hidden * hidden)))
    return ModelSize(params, layers, hidden, int(3.5 * hidden), hidden // 4)


@dataclass(frozen=True)
class RowTokens:
    """Mean tokens per row of each kind: (prompt, answer)."""

    object: tuple[float, float]
    hypothetical: tuple[float, float]
    source: str  # which tokenizer counted them

    def of(self, kind: str) -> tuple[float, float]:
        if kind == "train":
            return (self.hypothetical[0] + TRAIN_ANSWER_TOKENS, 0.0)
        if kind == "hypothetical":
            return self.hypothetical
        return self.object  # object, dataset (object answers of the training tasks), distributions


def row_tokens(
    tasks: Sequence[str], count: Callable[[list[dict[str, str]]], int], source: str, *, per_task: int = 20
) -> RowTokens:
    """Mean prompt tokens of the object-level and hypothetical prompts of `tasks` (`per_task` val items each,
    one property each), counted by `count` (messages → tokens, chat template included)."""
    from inward import prompts as PR
    from inward import tasks as T
    from inward.runs import HYPOTHETICAL_CONFIG, OBJECT_CONFIG

    tpl = PR.get("inward-v1")
    obj: list[int] = []
    hyp: list[int] = []
    for name in tasks:
        task = T.get(name)
        prop = task.properties[0]
        for item in task.items("val")[:per_task]:
            obj.append(count(tpl.object_messages(task, item)))
            hyp.append(count(tpl.hypothetical_messages(task, item, prop)))
    if not obj:
        raise UserError("the plan has no tasks to count tokens of")
    return RowTokens(
        (sum(obj) / len(obj), float(OBJECT_CONFIG.max_tokens)),
        (sum(hyp) / len(hyp), float(HYPOTHETICAL_CONFIG.max_tokens)),
        source,
    )


def tokenizer_counter(folder: Path) -> Callable[[list[dict[str, str]]], int]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))

    def count(messages: list[dict[str, str]]) -> int:
        ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, Mapping):  # newer transformers return a BatchEncoding
            ids = ids["input_ids"]
        return len(ids)

    return count


@dataclass
class ScaleLine:
    model: str
    kind: str
    rows: int
    tokens_in: float
    tokens_out: float
    gpu_hours: float


@dataclass
class ScaleEstimate:
    gpu: GPU
    gpus: int
    lines: list[ScaleLine]
    storage: dict[str, float]  # what → bytes
    tokens_source: str
    notes: list[str] = field(default_factory=list)

    @property
    def gpu_hours(self) -> float:
        return sum(x.gpu_hours for x in self.lines)

    @property
    def wall_hours(self) -> float:
        return self.gpu_hours / self.gpus

    def text(self) -> list[str]:
        out = [
            f"At scale on {self.gpus} × {self.gpu.name} (assumptions below; an estimate, not a measurement):"
        ]
        out.append(f"  {'model':<34} {'kind':<13} {'rows':>10} {'tokens in':>11} {'out':>9} {'GPU-h':>8}")
        for x in self.lines:
            out.append(
                f"  {x.model:<34} {x.kind:<13} {x.rows:>10,} {_si(x.tokens_in):>11} {_si(x.tokens_out):>9} "
                f"{x.gpu_hours:>8.2f}"
            )
        out.append(
            f"  total: {self.gpu_hours:.1f} GPU-hours, about {self.wall_hours:.1f} h on {self.gpus} GPUs"
        )
        out.append("  storage: " + ", ".join(f"{k} {_bytes(v)}" for k, v in self.storage.items()))
        out.append(
            f"  assumptions: tokens by {self.tokens_source}; answers at their token budget; MFU prefill "
            f"{MFU['prefill']:.0%}, training {MFU['train']:.0%} (LoRA, 4·N FLOPs/token); decoding the slower of "
            f"{MFU['decode']:.0%} MFU and one weight read per step of {DECODE_BATCH} sequences at "
            f"{HBM_UTIL:.0%} of {self.gpu.hbm_bytes_s / 1e12:.2f} TB/s; {STORE_BYTES_PER_ROW} bytes per stored row"
        )
        out.extend(f"  note: {n}" for n in self.notes)
        return out


def _si(x: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.1f}{unit}"
    return f"{x:.0f}"


def _bytes(x: float) -> str:
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= div:
            return f"{x / div:.1f} {unit}"
    return f"{x:.0f} B"


def gpu_seconds(size: ModelSize, gpu: GPU, kind: str, tokens_in: float, tokens_out: float) -> float:
    """Seconds of one GPU for `tokens_in` prompt (or training) tokens and `tokens_out` answer tokens."""
    n = size.params
    if kind == "train":
        return 4 * n * tokens_in / (gpu.bf16_flops * MFU["train"])
    prefill = 2 * n * tokens_in / (gpu.bf16_flops * MFU["prefill"])
    decode_flops = 2 * n * tokens_out / (gpu.bf16_flops * MFU["decode"])
    decode_bytes = (tokens_out / DECODE_BATCH) * 2 * n / (gpu.hbm_bytes_s * HBM_UTIL)
    return prefill + max(decode_flops, decode_bytes)


def estimate_scale(
    plan: Any,
    *,
    gpu: str,
    gpus: int,
    sizes: Mapping[str, ModelSize],
    tokens: RowTokens,
    epochs: Mapping[str, int] | None = None,
    rank: int = 8,
) -> ScaleEstimate:
    """GPU-hours per (model, kind) of `plan`'s steps and the storage the run needs. `sizes`: base model ref →
    shape; `epochs`: training step name prefix (m1, m2, shift) → epochs (default 1)."""
    if gpu not in GPUS:
        raise UserError(f"unknown GPU {gpu!r}; choose one of {', '.join(GPUS)}")
    if gpus < 1:
        raise UserError("--gpus must be at least 1")
    card = GPUS[gpu]
    lines: dict[tuple[str, str], ScaleLine] = {}
    adapters: dict[str, int] = {}
    rows_stored = 0
    for s in plan.steps:
        if s.kind == "other" or not s.model:
            continue
        if s.model not in sizes:
            raise UserError(f"no size for {s.model}: give its folder with a config.json, or --params N")
        size = sizes[s.model]
        t_in, t_out = tokens.of(s.kind)
        rows = s.rows
        if s.kind == "train":
            rows *= max((v for k, v in (epochs or {}).items() if s.name.startswith(k)), default=1)
            adapters[s.model] = adapters.get(s.model, 0) + 1
        else:
            rows_stored += s.rows
        line = lines.setdefault((s.model, s.kind), ScaleLine(s.model, s.kind, 0, 0.0, 0.0, 0.0))
        line.rows += rows
        line.tokens_in += rows * t_in
        line.tokens_out += rows * t_out
        line.gpu_hours += gpu_seconds(size, card, s.kind, rows * t_in, rows * t_out) / 3600
    storage = {
        "base weights (bf16)": sum(2 * sizes[m].params for m in {k[0] for k in lines}),
        "adapters": sum(n * 4 * sizes[m].lora_params(rank) for m, n in adapters.items()),
        "store": rows_stored * STORE_BYTES_PER_ROW,
    }
    notes = []
    for m in sorted({k[0] for k in lines}):
        need = 2 * sizes[m].params * 1.2  # weights + ~20% for the KV cache and activations at minimum
        if need > card.memory_bytes * gpus:
            notes.append(f"{m} needs about {_bytes(need)} in bf16, more than {gpus} × {card.name} hold")
        elif need > card.memory_bytes:
            shards = math.ceil(need / card.memory_bytes)
            notes.append(
                f"{m} needs tensor parallel over ≥ {shards} GPUs (bf16 weights {_bytes(need / 1.2)})"
            )
    return ScaleEstimate(card, gpus, list(lines.values()), storage, tokens.source, notes)


def sizes_for(refs: Sequence[str], params: float | None) -> tuple[dict[str, ModelSize], Path | None]:
    """Each ref's shape from its folder's config.json (local/, hf/, vllm/ refs that resolve to a folder), else
    from `params`; also the first folder with a tokenizer, for counting tokens."""
    from inward import models
    from inward.refs import ModelRef

    sizes: dict[str, ModelSize] = {}
    tok_folder: Path | None = None
    for ref in refs:
        folder: Path | None = None
        r = ModelRef.parse(ref)
        if Path(r.name).expanduser().is_dir():  # hf/PATH, vllm/PATH
            folder = Path(r.name).expanduser()
        elif r.provider in ("local", "vllm"):  # a bundled model's name
            try:
                got = models.resolve(ModelRef("local", r.name), install=False)
                folder = got if isinstance(got, Path) else None
            except UserError:
                folder = None
        if folder is not None and (folder / "config.json").is_file():
            sizes[ref] = model_size(json.loads((folder / "config.json").read_text(encoding="utf-8")))
            if tok_folder is None and (folder / "tokenizer_config.json").is_file():
                tok_folder = folder
        elif params is not None:
            sizes[ref] = size_from_params(params)
    return sizes, tok_folder


def scale_for_plan(plan: Any, *, gpu: str, gpus: int, params: float | None = None) -> ScaleEstimate:
    """`estimate_scale` with each model's shape from its folder (or `params`), tokens counted by the first
    model tokenizer found (else the bundled qwen2.5-0.5b's, as a proxy), epochs and rank from the plan's config."""
    cfg = plan.config
    refs = sorted({s.model for s in plan.steps if s.model})
    sizes, folder = sizes_for(refs, params)
    source = f"the tokenizer of {folder.name}" if folder is not None else ""
    if folder is None:
        from inward import models
        from inward.refs import ModelRef

        try:
            got = models.resolve(ModelRef("local", "qwen2.5-0.5b"), install=False)
        except UserError:
            got = None
        if not isinstance(got, Path):
            raise UserError(
                "no tokenizer to count tokens with: give a model folder, or `inward models install qwen2.5-0.5b`"
            )
        folder, source = got, "the qwen2.5-0.5b tokenizer (a proxy: no model folder had one)"
    from inward import tasks as T

    tasks = sorted({*(cfg.train_tasks or T.TRAINING_TASKS), *(cfg.eval_tasks or T.HELD_OUT_TASKS)})
    tokens = row_tokens(tasks, tokenizer_counter(folder), source)
    epochs = {role: getattr(cfg.training, role).epochs for role in ("m1", "m2", "shift")}
    return estimate_scale(
        plan, gpu=gpu, gpus=gpus, sizes=sizes, tokens=tokens, epochs=epochs, rank=cfg.training.m1.rank
    )
