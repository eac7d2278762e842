"""Internals of the local backend shared by generation and exact enumeration (private; use `LocalBackend`).

`LocalModel` wraps a loaded transformers causal LM and its tokenizer: it renders chat prompts to token ids,
runs forwards while counting the work in `EngineStats`, and edits the KV cache (drop finished rows, trim
padding columns that no row needs any more).

Numerics that keep answers independent of how prompts are batched:
* left padding with an explicit attention mask and explicit position ids (a row's first real token is at
  position 0 whatever its padding), so a padded row computes the same function as the row alone;
* prompts are batched by length (and by shared prefix, `_local_prefix`), so most batches carry little padding;
* logits are cast to fp32 before any softmax, whatever the model dtype.
What remains is floating-point reduction order, which differs between batch shapes. Measured on
SmolLM2-135M, fp32, CPU: a prompt's last logits in a padded batch of 6 differ from the prompt alone by
<= 3.6e-5 (<= 7.6e-6 for the batch's unpadded rows: the batch shape alone changes the matmul blocking). Over
55 prompts x 12 greedy tokens, batch 1 and batch 16 (length-sorted or random buckets) gave identical
answers, chosen-token log-probs differed by <= 1.6e-5, and no step had its top-2 gap below 1e-3 (5 of 616
below 1e-2). A greedy answer can thus only change with the batch at a near-exact tie: rare, not impossible.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import tokenizers
import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from inward.backends._local_prefix import split_points
from inward.backends.base import Messages
from inward.errors import UserError

REPLACEMENT_CHAR = "\ufffd"  # what a decoder prints for an incomplete UTF-8 sequence at the end of a prefix


@dataclass
class EngineStats:
    """Work done by a `LocalBackend` since creation or the last `reset()`; benchmarks report these."""

    forward_passes: int = 0
    forward_tokens: int = 0  # real tokens pushed through the model (prompt + generated / expanded)
    padded_tokens: int = 0  # token slots computed, padding included (>= forward_tokens)
    generated_tokens: int = 0  # tokens sampled by `generate` (EOS included)
    expanded_nodes: int = 0  # answer prefixes expanded by exact enumeration
    shared_tokens: int = 0  # prompt tokens not computed because a shared prefix was prefilled once
    refills: int = 0  # times queued prompts joined a running generation batch
    prompts: int = 0
    wall_s: float = 0.0  # time spent inside the backend's public calls

    def reset(self) -> None:
        for name, value in asdict(EngineStats()).items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class LocalModel:
    """A causal LM + tokenizer on one device, with the few primitives the decode loops need."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device: torch.device,
        stats: EngineStats,
        *,
        share_prefixes: bool = True,
    ) -> None:
        self.model = model
        self.share_prefixes = share_prefixes
        self.tokenizer = tokenizer
        self.device = device
        self.stats = stats
        if getattr(tokenizer, "chat_template", None) is None:
            raise UserError("this model folder has no chat template; use an instruction-tuned (chat) model")
        self.eos_ids = frozenset(_eos_ids(model, tokenizer))
        if not self.eos_ids:
            raise UserError("the model declares no end-of-sequence token; add eos_token_id to its config")
        pad = tokenizer.pad_token_id
        # The pad id only fills masked slots, so any valid id will do.
        self.pad_id: int = int(pad if pad is not None else min(self.eos_ids))
        self.vocab_size: int = int(model.get_output_embeddings().weight.shape[0])
        self._dtype: torch.dtype = next(model.parameters()).dtype
        self._token_text: dict[int, str] = {}
        # The Rust tokenizer's own decode is ~8x faster than the Python wrapper, and exact enumeration
        # decodes every prefix it looks at.
        backend = getattr(tokenizer, "_tokenizer", None)
        self._fast_decode = backend.decode if isinstance(backend, tokenizers.Tokenizer) else None
        # transformers 5 renamed `past_key_values` to `cache` in forward signatures.
        core = model.get_base_model() if hasattr(model, "get_base_model") else model
        self._cache_kw = (
            "cache" if "cache" in inspect.signature(core.forward).parameters else "past_key_values"
        )

    # --- text <-> ids -------------------------------------------------------------------------------------
    def encode(self, messages: Messages) -> list[int]:
        """Token ids of the chat prompt; a final assistant message is continued rather than closed."""
        cont = bool(messages) and messages[-1].get("role") == "assistant"
        text = self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=not cont, continue_final_message=cont
        )
        # The template already carries any BOS it wants.
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        # No clean-up of tokenization spaces: it would make the text of a prefix depend on later tokens.
        if self._fast_decode is not None:
            return str(self._fast_decode(list(ids), skip_special_tokens=True))
        return str(
            self.tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)
        )

    def token_text(self, token_id: int) -> str:
        text = self._token_text.get(token_id)
        if text is None:
            text = str(self.tokenizer.decode([token_id], clean_up_tokenization_spaces=False))
            self._token_text[token_id] = text
        return text

    def top_logprobs(self, logprobs: torch.Tensor, k: int) -> dict[str, float]:
        """Top-k of one position as text -> log-prob; tokens that decode to the same text are merged."""
        values, ids = torch.topk(logprobs.float(), min(k, logprobs.shape[-1]))
        out: dict[str, float] = {}
        for v, i in zip(values.tolist(), ids.tolist(), strict=True):
            t = self.token_text(int(i))
            out[t] = _logaddexp(out[t], v) if t in out else float(v)
        return out

    # --- forwards -----------------------------------------------------------------------------------------
    def prefill(self, prompts: Sequence[Sequence[int]]) -> tuple[torch.Tensor, DynamicCache, torch.Tensor]:
        """Run the prompts; return fp32 last-position logits [B, V], the cache and the 2-D mask.

        Prompts that share a beginning (see `_local_prefix`) have it computed once: the distinct heads are
        prefilled, their cache rows copied to every prompt of their group, and the tails run on top. A row's
        cache is then [padding | head | padding | tail], with the mask and explicit positions saying which
        columns are real, so later forwards treat it exactly like a left-padded prompt.
        """
        cache = DynamicCache(config=self.model.config)
        split = split_points(prompts) if self.share_prefixes and len(prompts) > 1 else None
        if split is None or not all(type(layer) is DynamicLayer for layer in cache.layers):
            ids, mask, positions = _left_padded(prompts, self.pad_id)
            logits = self._forward_padded(ids, mask, positions, cache)
            return logits, cache, mask.to(self.device)
        group_of, heads = split
        first: dict[int, int] = {}
        for r, g in enumerate(group_of):
            first.setdefault(g, r)
        head_ids, head_mask, head_pos = _left_padded(
            [prompts[first[g]][: heads[g]] for g in range(len(heads))], self.pad_id
        )
        self._forward_padded(head_ids, head_mask, head_pos, cache)
        rows = torch.tensor(group_of, dtype=torch.long)
        keep_rows(cache, rows)
        cuts = [heads[g] for g in group_of]
        tail_ids, tail_mask, tail_pos = _left_padded(
            [p[c:] for p, c in zip(prompts, cuts, strict=True)], self.pad_id
        )
        offset = torch.tensor(cuts, dtype=torch.long)[:, None]
        tail_pos = torch.where(tail_mask.bool(), tail_pos + offset, torch.zeros_like(tail_pos))
        mask = torch.cat([head_mask[rows], tail_mask], dim=1).to(self.device)
        self.stats.shared_tokens += sum(cuts) - sum(heads)
        logits = self.forward(
            tail_ids.to(self.device),
            mask,
            tail_pos.to(self.device),
            cache,
            logits_to_keep=1,
            real=int(tail_mask.sum()),
        )
        return logits[:, -1, :].float(), cache, mask

    def _forward_padded(
        self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, cache: DynamicCache
    ) -> torch.Tensor:
        ids, mask, positions = ids.to(self.device), mask.to(self.device), positions.to(self.device)
        logits = self.forward(ids, mask, positions, cache, logits_to_keep=1, real=int(mask.sum()))
        return logits[:, -1, :].float()

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: DynamicCache,
        *,
        logits_to_keep: int,
        real: int,
    ) -> torch.Tensor:
        """One forward over `ids` [B, T] on top of `cache` (updated in place); `real` = non-padding tokens."""
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=logits_to_keep,
            **{self._cache_kw: cache},
        )
        self.stats.forward_passes += 1
        self.stats.forward_tokens += real
        self.stats.padded_tokens += int(ids.numel())
        return out.logits

    def additive_mask(self, allowed: torch.Tensor) -> torch.Tensor:
        """Bool [B, 1, Q, K] "may attend" -> the additive float mask that eager and SDPA attention accept."""
        blocked = torch.finfo(self._dtype).min
        zero = torch.zeros((), dtype=self._dtype, device=allowed.device)
        return torch.where(allowed, zero, torch.full((), blocked, dtype=self._dtype, device=allowed.device))


def _left_padded(
    prompts: Sequence[Sequence[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token ids, 0/1 mask and position ids [B, W] of left-padded prompts (a row's first token at position 0)."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for r, p in enumerate(prompts):
        ids[r, width - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[r, width - len(p) :] = 1
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


def keep_rows(cache: DynamicCache, rows: torch.Tensor) -> None:
    """Keep only `rows` (batch indices) of every layer of the cache."""
    cache.batch_select_indices(rows.to(_cache_device(cache)))


def trim_left(cache: DynamicCache, mask: torch.Tensor) -> torch.Tensor:
    """Drop leading cache columns that every row masks out (padding of rows that have finished)."""
    if not all(type(layer) is DynamicLayer for layer in cache.layers):
        return mask  # sliding-window or other layers keep their own bookkeeping
    nonzero = mask.any(dim=0).nonzero()
    first = int(nonzero[0]) if len(nonzero) else 0
    if first == 0:
        return mask
    layers: list[Any] = list(cache.layers)
    for layer in layers:
        if layer.is_initialized and layer.keys is not None and layer.keys.numel():
            layer.keys = layer.keys[:, :, first:, :]
            layer.values = layer.values[:, :, first:, :]
    return mask[:, first:]


def _cache_device(cache: DynamicCache) -> torch.device:
    layers: list[Any] = list(cache.layers)
    for layer in layers:
        if layer.is_initialized and layer.keys is not None:
            return layer.keys.device
    return torch.device("cpu")


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi + math.log1p(math.exp(lo - hi))


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config, tokenizer):
        value = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


@contextmanager
def timed(stats: EngineStats, prompts: int) -> Iterator[None]:
    """Count one public call: wall time and prompts."""
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            yield
    finally:
        stats.wall_s += time.perf_counter() - start
        stats.prompts += prompts
