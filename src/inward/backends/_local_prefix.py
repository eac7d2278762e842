"""Shared prompt prefixes: which prompts of a batch can share one prefill of their common beginning (private).

The hypotheticals of one item differ only in their last sentence (the property question comes after the quoted
object-level prompt), and in-context prompts of one task and property repeat the same shots. Computing such a
common prefix once and copying its cache rows saves most of the prefill, which dominates the cost of short
answers on a CPU.

`prefix_groups` partitions prompts into groups that share a prefix, choosing the partition (of prompts sorted by
their token ids, so that sharers are neighbours) that saves the most prefill tokens, with at most `max_group`
prompts in a group; `share_batches` packs whole groups into batches; `split_points` says, for one batch, where
each prompt's shared head ends. The forward that uses them is `LocalModel.prefill`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_SHARED = 16  # a shorter common prefix is not worth a second forward
MIN_SAVED = 64  # tokens a batch must save before its prefill is split into head and tail


@dataclass(frozen=True)
class Group:
    """Prompts (indices) that share their first `shared` tokens; `shared` is 0 for a prompt on its own."""

    members: tuple[int, ...]
    shared: int

    @property
    def saved(self) -> int:
        return (len(self.members) - 1) * self.shared


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def prefix_groups(prompts: Sequence[Sequence[int]], max_group: int) -> list[Group]:
    """The partition of `prompts` into groups of at most `max_group` that saves the most prefill tokens.

    A group's prefix stops at least one token short of its shortest member, so every prompt keeps a token of
    its own (whose logits the caller needs). Groups come in the prompts' sorted (token id) order.
    """
    order = sorted(range(len(prompts)), key=lambda i: (tuple(prompts[i]), i))
    n = len(order)
    lcp = [common_prefix(prompts[order[k]], prompts[order[k + 1]]) for k in range(n - 1)]
    # best[i]: most tokens saved by the first i prompts; cut[i]: where the last group of that partition starts.
    best = [0] * (n + 1)
    cut = [0] * (n + 1)
    for i in range(1, n + 1):
        best[i], cut[i] = best[i - 1], i - 1  # prompt i-1 on its own
        shared = len(prompts[order[i - 1]]) - 1
        for j in range(i - 2, max(-1, i - 1 - max_group), -1):  # group order[j..i-1]
            shared = min(shared, lcp[j], len(prompts[order[j]]) - 1)
            if shared < MIN_SHARED:
                break
            value = best[j] + (i - 1 - j) * shared
            if value > best[i]:
                best[i], cut[i] = value, j
    groups: list[Group] = []
    i = n
    while i > 0:
        j = cut[i]
        members = tuple(order[j:i])
        if len(members) == 1:
            groups.append(Group(members, 0))
        else:
            shared = min(min(lcp[j : i - 1]), *(len(prompts[m]) - 1 for m in members))
            groups.append(Group(members, shared))
        i = j
    groups.reverse()
    return groups


def share_batches(prompts: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Batches of at most `batch_size` prompt indices that keep every sharing group whole; groups are taken
    in order of their longest prompt, so that the padding a batch carries stays small."""
    groups = prefix_groups(prompts, batch_size)
    groups.sort(key=lambda g: (max(len(prompts[m]) for m in g.members), min(g.members)))
    batches: list[list[int]] = []
    current: list[int] = []
    for g in groups:
        if len(current) + len(g.members) > batch_size:
            batches.append(current)
            current = []
        current.extend(sorted(g.members, key=lambda m: (len(prompts[m]), m)))
    if current:
        batches.append(current)
    return batches


def split_points(prompts: Sequence[Sequence[int]]) -> tuple[list[int], list[int]] | None:
    """For one batch: (group of each prompt, head length of each group), or None when sharing saves fewer
    than MIN_SAVED tokens. A group's head is its shared prefix; a prompt on its own puts as much of itself in
    the head as the longest shared prefix of the batch (so that the head and tail blocks both stay narrow)."""
    groups = prefix_groups(prompts, len(prompts))
    if sum(g.saved for g in groups) < MIN_SAVED:
        return None
    widest = max(g.shared for g in groups)
    group_of = [0] * len(prompts)
    heads: list[int] = []
    for k, g in enumerate(groups):
        for m in g.members:
            group_of[m] = k
        heads.append(g.shared if len(g.members) > 1 else min(widest, len(prompts[g.members[0]]) - 1))
    if min(heads) < 1:  # a one-token prompt has no head to share; prefill the batch whole
        return None
    return group_of, heads
