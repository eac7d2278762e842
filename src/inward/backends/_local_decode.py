"""The local backend's decode loop (private; use `LocalBackend.generate`).

One bucket of prompts is prefilled once (left-padded), the prompt cache is repeated for the n samples of each
prompt, and tokens are then decoded one step at a time with the KV cache. A row leaves the batch as soon as it
ends: at an EOS token ("stop"), at `max_tokens` ("length"), or once `stop_when(text so far)` holds ("early").
Leaving means its cache row is dropped and padding columns that no remaining row needs are trimmed, so a long
row never makes the finished ones cost compute.

Greedy decoding (temperature 0) is deterministic, so an early-stopped answer is a prefix of the full answer.
Sampling uses one `torch.Generator` per row, seeded from (seed, prompt, sample index): a row's draws do not
depend on which other prompts share its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from inward.backends._local_core import REPLACEMENT_CHAR, LocalModel, keep_rows, trim_left
from inward.backends.base import GenerateConfig, Generation, StopWhen


@dataclass
class _Row:
    prompt: int  # index within the bucket
    prompt_tokens: int
    stop_when: StopWhen | None
    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[dict[str, float]] = field(default_factory=list)
    finish: str = ""
    text: str = ""


def generate_bucket(
    lm: LocalModel,
    prompts: Sequence[Sequence[int]],
    stop_when: Sequence[StopWhen | None],
    seeds: Sequence[Sequence[int]] | None,
    config: GenerateConfig,
) -> list[list[Generation]]:
    """Generate for one bucket of prompts; `seeds[i][j]` seeds sample j of prompt i (None: greedy)."""
    per_prompt = len(seeds[0]) if seeds else 1
    rows = [
        _Row(
            prompt=i,
            prompt_tokens=len(p),
            stop_when=stop_when[i],
            generator=_generator(lm.device, seeds[i][j]) if seeds else None,
        )
        for i, p in enumerate(prompts)
        for j in range(per_prompt)
    ]
    logits, cache, mask = lm.prefill(prompts)
    if per_prompt > 1:
        cache.batch_repeat_interleave(per_prompt)
        logits = logits.repeat_interleave(per_prompt, dim=0)
        mask = mask.repeat_interleave(per_prompt, dim=0)
    positions = torch.tensor([r.prompt_tokens for r in rows], dtype=torch.long, device=lm.device)
    active = list(range(len(rows)))  # rows still in the batch, in batch order

    while True:
        chosen = _choose(logits, [rows[a].generator for a in active], config.temperature)
        lp = torch.log_softmax(logits, dim=-1) if config.top_logprobs > 0 else None
        still: list[int] = []
        for b, a in enumerate(active):
            row, token = rows[a], chosen[b]
            row.tokens.append(token)
            if lp is not None:
                row.logprobs.append(lm.top_logprobs(lp[b], config.top_logprobs))
            _update(lm, row, token, config.max_tokens)
            if not row.finish:
                still.append(b)
        lm.stats.generated_tokens += len(active)
        if not still:
            break
        if len(still) < len(active):
            keep = torch.tensor(still, dtype=torch.long, device=lm.device)
            keep_rows(cache, keep)
            mask = trim_left(cache, mask[keep])
            positions = positions[keep]
            active = [active[b] for b in still]
        ids = torch.tensor([[rows[a].tokens[-1]] for a in active], dtype=torch.long, device=lm.device)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        logits = lm.forward(ids, mask, positions[:, None], cache, logits_to_keep=1, real=len(active))
        logits = logits[:, -1, :].float()
        positions = positions + 1

    out: list[list[Generation]] = [[] for _ in prompts]
    for row in rows:
        out[row.prompt].append(
            Generation(
                text=row.text,
                finish_reason=row.finish,
                completion_tokens=len(row.tokens),
                prompt_tokens=row.prompt_tokens,
                logprobs=row.logprobs if config.top_logprobs > 0 else None,
            )
        )
    return out


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
    if temperature <= 0 or generators[0] is None:
        return [int(t) for t in logits.argmax(dim=-1).tolist()]
    probs = torch.softmax(logits / temperature, dim=-1)
    return [int(torch.multinomial(probs[b], 1, generator=g)) for b, g in enumerate(generators)]


def _generator(device: torch.device, seed: int) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g
