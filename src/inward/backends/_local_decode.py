"""The local backend's decode loop (private; use `LocalBackend.generate`).

Jobs (a prompt and the seeds of the samples to draw from it) are taken in order (the caller sorts them by
prompt length) into one running batch of at most `batch_rows` rows. Each job is prefilled once and its cache
row repeated for its samples; tokens are then decoded one step at a time over the KV cache. A row leaves the
batch as soon as it ends: at an EOS token ("stop"), at `max_tokens` ("length"), or once `stop_when(text so
far)` holds ("early"). Leaving drops its cache row and trims padding columns no remaining row needs; when
half the batch is free, queued jobs are prefilled and merged in (continuous batching), so rows that run long
never leave the per-forward cost spread over a nearly empty batch.

Greedy decoding (temperature 0) is deterministic, so an early-stopped answer is a prefix of the full answer.
Sampling uses one `torch.Generator` per row, seeded from (seed, prompt, sample index): a row's draws do not
depend on which other prompts share its batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from inward.backends._local_core import REPLACEMENT_CHAR, LocalModel, keep_rows, trim_left
from inward.backends.base import GenerateConfig, Generation, StopWhen


@dataclass
class Job:
    """One prompt to answer: `seeds` has one seed per sample (None: a single greedy answer)."""

    prompt: Sequence[int]
    stop_when: StopWhen | None
    seeds: Sequence[int] | None


@dataclass
class _Row:
    job: int
    prompt_tokens: int
    stop_when: StopWhen | None
    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[dict[str, float]] = field(default_factory=list)
    finish: str = ""
    text: str = ""


@dataclass
class _Batch:
    """The running batch: rows, their cache, 2-D mask, next positions and pending next-token logits."""

    rows: list[_Row]
    cache: DynamicCache
    mask: torch.Tensor
    positions: torch.Tensor
    logits: torch.Tensor


def generate_jobs(
    lm: LocalModel, jobs: Sequence[Job], config: GenerateConfig, batch_rows: int
) -> list[list[Generation]]:
    """Run all jobs; one list of generations (one per seed, or one greedy) per job, in job order."""
    queue = deque(range(len(jobs)))
    rows_of = [len(j.seeds) if j.seeds else 1 for j in jobs]
    assert max(rows_of, default=1) <= batch_rows, "a job has more samples than a batch holds"
    mergeable = True  # sliding-window caches cannot be merged column-wise; they run bucket by bucket
    batch: _Batch | None = None
    done: list[_Row] = []
    while queue or batch is not None:
        free = batch_rows - (len(batch.rows) if batch else 0)
        if queue and (batch is None or (mergeable and free >= batch_rows // 2)):
            take: list[int] = []
            while queue and rows_of[queue[0]] <= free - sum(rows_of[i] for i in take):
                take.append(queue.popleft())
            if take:
                new = _prefill(lm, jobs, take)
                mergeable = all(type(layer) is DynamicLayer for layer in new.cache.layers)
                if batch is not None:
                    lm.stats.refills += 1
                batch = new if batch is None else _merge(batch, new)
        assert batch is not None
        batch = _step(lm, batch, config, done)
    out: list[list[Generation]] = [[] for _ in jobs]
    for row in sorted(done, key=lambda r: r.job):  # stable: a job's samples stay in seed order
        out[row.job].append(
            Generation(
                text=row.text,
                finish_reason=row.finish,
                completion_tokens=len(row.tokens),
                prompt_tokens=row.prompt_tokens,
                logprobs=row.logprobs if config.top_logprobs > 0 else None,
            )
        )
    return out


def _prefill(lm: LocalModel, jobs: Sequence[Job], take: Sequence[int]) -> _Batch:
    logits, cache, mask = lm.prefill([jobs[i].prompt for i in take])
    rows: list[_Row] = []
    repeats: list[int] = []
    for i in take:
        job = jobs[i]
        seeds: Sequence[int | None] = job.seeds if job.seeds else [None]
        rows += [_Row(i, len(job.prompt), job.stop_when, _generator(lm.device, s)) for s in seeds]
        repeats.append(len(seeds))
    if any(r > 1 for r in repeats):
        index = torch.repeat_interleave(torch.arange(len(take)), torch.tensor(repeats)).to(lm.device)
        keep_rows(cache, index)
        logits, mask = logits[index], mask[index]
    positions = torch.tensor([r.prompt_tokens for r in rows], dtype=torch.long, device=lm.device)
    return _Batch(rows, cache, mask, positions, logits)


def _merge(a: _Batch, b: _Batch) -> _Batch:
    """One batch from two, left-padding the shorter cache with masked zero columns."""
    width = max(a.mask.shape[1], b.mask.shape[1])
    layers_a: list[Any] = list(a.cache.layers)
    layers_b: list[Any] = list(b.cache.layers)
    for la, lb in zip(layers_a, layers_b, strict=True):
        la.keys = torch.cat([_pad_left(la.keys, width), _pad_left(lb.keys, width)])
        la.values = torch.cat([_pad_left(la.values, width), _pad_left(lb.values, width)])
    mask = torch.cat([_pad_left(a.mask, width, dim=1), _pad_left(b.mask, width, dim=1)])
    positions = torch.cat([a.positions, b.positions])
    return _Batch(a.rows + b.rows, a.cache, mask, positions, torch.cat([a.logits, b.logits]))


def _pad_left(t: torch.Tensor, width: int, dim: int = -2) -> torch.Tensor:
    missing = width - t.shape[dim]
    if missing == 0:
        return t
    pad = [0, 0] * (t.dim() - 1 - (dim % t.dim())) + [missing, 0]
    return F.pad(t, pad)


def _step(lm: LocalModel, batch: _Batch, config: GenerateConfig, done: list[_Row]) -> _Batch | None:
    """Choose every row's next token, retire finished rows, and run the forward for the rest."""
    chosen = _choose(batch.logits, [r.generator for r in batch.rows], config.temperature)
    lp = torch.log_softmax(batch.logits, dim=-1) if config.top_logprobs > 0 else None
    still: list[int] = []
    for b, (row, token) in enumerate(zip(batch.rows, chosen, strict=True)):
        row.tokens.append(token)
        if lp is not None:
            row.logprobs.append(lm.top_logprobs(lp[b], config.top_logprobs))
        _update(lm, row, token, config.max_tokens)
        if row.finish:
            done.append(row)
        else:
            still.append(b)
    lm.stats.generated_tokens += len(batch.rows)
    if not still:
        return None
    if len(still) < len(batch.rows):
        keep = torch.tensor(still, dtype=torch.long, device=lm.device)
        keep_rows(batch.cache, keep)
        batch.mask = trim_left(batch.cache, batch.mask[keep])
        batch.positions = batch.positions[keep]
        batch.rows = [batch.rows[b] for b in still]
    ids = torch.tensor([[r.tokens[-1]] for r in batch.rows], dtype=torch.long, device=lm.device)
    batch.mask = torch.cat([batch.mask, torch.ones_like(batch.mask[:, :1])], dim=1)
    logits = lm.forward(
        ids, batch.mask, batch.positions[:, None], batch.cache, logits_to_keep=1, real=len(ids)
    )
    batch.logits = logits[:, -1, :].float()
    batch.positions = batch.positions + 1
    return batch


def _update(lm: LocalModel, row: _Row, token: int, max_tokens: int) -> None:
    """Decide whether `row` ends after `token`; keep its text up to date when someone needs it."""
    if token in lm.eos_ids:
        row.finish, row.text = "stop", lm.decode(row.tokens[:-1])
        return
    if row.stop_when is not None:
        row.text = lm.decode(row.tokens)
        # An incomplete multi-byte character is not yet text; wait for the rest of it.
        if not row.text.endswith(REPLACEMENT_CHAR) and row.stop_when(row.text):
            row.finish = "early"
            return
    if len(row.tokens) >= max_tokens:
        row.finish, row.text = "length", lm.decode(row.tokens)


def _choose(
    logits: torch.Tensor, generators: Sequence[torch.Generator | None], temperature: float
) -> list[int]:
    if temperature <= 0:
        return [int(t) for t in logits.argmax(dim=-1).tolist()]
    probs = torch.softmax(logits / temperature, dim=-1)
    return [int(torch.multinomial(probs[b], 1, generator=g)) for b, g in enumerate(generators)]


def _generator(device: torch.device, seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g
