"""Chat examples → token ids with answer-only labels, and the batch plan of an epoch.

The answer tokens must be exactly what the model would produce at inference: the conversation up to an
assistant turn is rendered with the tokenizer's chat template and ``add_generation_prompt=True``; the answer
is the message content tokenised on its own, followed by the template's end-of-turn token (``<|im_end|>``,
``<|eot_id|>``, ...), which is what the model emits to stop. Labels are -100 everywhere except on trained
answer tokens.

    enc = encode_example(tokenizer, example, max_len=256)   # Encoded(input_ids, labels, truncated)
    plan = plan_batches([len(e.input_ids) for e in encs], batch_size=8, seed=0, epoch=0)
    batch = collate([encs[i] for i in plan[0]], pad_id=tokenizer.pad_token_id)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch

from inward.errors import UserError
from inward.training.chat_data import ChatExample

IGNORE = -100  # label value that carries no loss (torch cross-entropy's ignore_index)
MEGABATCH = 16  # batches per length-sorted group: similar lengths together, order still random across groups


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    @property
    def n_answer_tokens(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE)


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    return str(
        tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    )


def _ids(tokenizer: Any, text: str) -> list[int]:
    # The rendered template already holds every special token (BOS included); adding more would double BOS.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _special_ids(tokenizer: Any) -> set[int]:
    ids = set(tokenizer.all_special_ids)
    ids.update(i for i, t in tokenizer.added_tokens_decoder.items() if t.special)
    return ids


def end_of_turn(tokenizer: Any, rendered_tail: str) -> tuple[list[int], str]:
    """The tokens (and their text) the model emits to end its turn, read from the text the template puts after
    an assistant message: everything up to and including the first special token. Falls back to EOS."""
    tail_ids = _ids(tokenizer, rendered_tail)
    special = _special_ids(tokenizer)
    for k, t in enumerate(tail_ids):
        if t in special:
            eot = tail_ids[: k + 1]
            text = tokenizer.decode(eot, skip_special_tokens=False)
            if rendered_tail.startswith(text):
                return eot, text
            break
    if tokenizer.eos_token_id is None:
        raise UserError("the tokenizer has no end-of-turn or EOS token; set tokenizer.eos_token and retry")
    return [int(tokenizer.eos_token_id)], ""


def encode_example(tokenizer: Any, example: ChatExample, max_len: int) -> Encoded:
    """Token ids and labels of one conversation, cut after its last trained assistant message."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("the base model's tokenizer has no chat template; use an instruction-tuned model")
    last = example.last_trained_index
    msgs = [{"role": m.role, "content": m.content} for m in example.messages[: last + 1]]
    full = _render(tokenizer, msgs, generation_prompt=False)
    input_ids: list[int] = []
    labels: list[int] = []
    pos = 0  # characters of `full` already turned into tokens
    for i, m in enumerate(example.messages[: last + 1]):
        if m.role != "assistant":
            continue
        prompt = _render(tokenizer, msgs[:i], generation_prompt=True)
        if len(prompt) < pos or not full.startswith(prompt) or not full[len(prompt) :].startswith(m.content):
            raise UserError(
                f"the tokenizer's chat template renders assistant turn {i} differently from its generation "
                "prompt, so answer tokens cannot be placed exactly; train on single-turn examples"
            )
        context = _ids(tokenizer, full[pos : len(prompt)])
        eot, eot_text = end_of_turn(tokenizer, full[len(prompt) + len(m.content) :])
        answer = _ids(tokenizer, m.content) + eot
        input_ids += context + answer
        labels += [IGNORE] * len(context) + (answer if m.trained else [IGNORE] * len(answer))
        pos = len(prompt) + len(m.content) + len(eot_text)
    truncated = len(input_ids) > max_len
    if truncated:
        # Keep the end: the answer must stay whole, the start of a long prompt is the least useful part.
        input_ids, labels = input_ids[-max_len:], labels[-max_len:]
        if labels[0] != IGNORE:
            raise UserError(f"an answer is longer than max_len={max_len} tokens; raise max_len")
    return Encoded(input_ids=input_ids, labels=labels, truncated=truncated)


def plan_batches(
    lengths: list[int], batch_size: int, seed: int, epoch: int, group_by_length: bool = True
) -> list[list[int]]:
    """The example indices of every micro-batch of one epoch: a seeded shuffle, then (optionally) sorted by
    length inside groups of MEGABATCH batches so that padding stays small, and the batches of each group
    shuffled again (otherwise every epoch of a small data set would run from its longest to its shortest
    examples). A pure function of its arguments."""
    rng = random.Random(f"inward-train/{seed}/{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if not group_by_length:
        return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    plan: list[list[int]] = []
    group = batch_size * MEGABATCH
    for start in range(0, len(order), group):
        by_length = sorted(order[start : start + group], key=lambda j: -lengths[j])
        batches = [by_length[s : s + batch_size] for s in range(0, len(by_length), batch_size)]
        rng.shuffle(batches)
        plan += batches
    return plan


def shard(plan: list[list[int]], rank: int, world: int) -> list[list[int]]:
    """This process's micro-batches under data parallelism. Every process must run the same number of
    steps, so the plan is padded by repeating its first batches (as torch's DistributedSampler does)."""
    if world == 1:
        return plan
    padded = plan + plan[: (-len(plan)) % world]
    return padded[rank::world]


def collate(batch: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: input_ids, attention_mask, labels (-100 on padding)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, e in enumerate(batch):
        n = len(e.input_ids)
        ids[r, :n] = torch.tensor(e.input_ids)
        labels[r, :n] = torch.tensor(e.labels)
        mask[r, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
