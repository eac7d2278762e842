"""Exact answer distributions by best-first tree expansion (private; use `LocalBackend.distribution`).

At temperature 1 the probability of an answer prefix is the product of its next-token probabilities, so the
distribution of any value that is fixed by a prefix (first character, first word, option letter) can be
summed exactly without sampling: enumerate prefixes from the most probable down, ask `resolve(text,
finished)` about each, and add the prefix's mass to its value as soon as it resolves. Prefixes that do not
resolve yet are expanded (one forward token each) to get their children's probabilities.

How the work stays small:
* the prompt is computed once; every expanded prefix costs exactly one new token, because all prefixes of
  one prompt share a single cache row and a tree-shaped 4-D attention mask lets each new token see only the
  prompt and its own ancestors;
* several prefixes of several prompts are expanded in one forward (rows = prompts, columns = prefixes);
* children are visited lazily in descending probability, so a prefix's long tail of unlikely tokens is only
  looked at while the mass still matters, and resolving a child costs a decode, not a forward; only the
  `MAX_CHILDREN` best tokens of a prefix are kept, unless the rest could matter for `coverage` (then all);
* a step expands only as many prefixes as could still be needed: it stops choosing once the chosen prefixes
  carry the mass still missing for `coverage`.

Accounting: an EOS child ends the answer; its mass goes to `resolve(text, finished=True)`, or to the
`NONE_KEY` bucket when that is None. So `sum(probs.values()) == covered`. Mass left in prefixes that reach
`max_tokens` without resolving is not covered (`extra["truncated_mass"]`), nor is the mass of prefixes left
unexpanded (`extra["open_mass"]`) or never looked at (`extra["unexamined_mass"]`) because `coverage` or
`max_branches` stopped the search: covered + truncated + open + unexamined = 1.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from inward.backends._local_core import REPLACEMENT_CHAR, LocalModel, keep_rows
from inward.backends.base import NONE_KEY, Distribution, Resolve

MAX_EXAMINED = 20_000  # candidate prefixes looked at per prompt; bounds the work on very flat distributions
MIN_MASS = 1e-9  # candidates below this cannot move a coverage target; never looked at
LOG_MIN_MASS = math.log(MIN_MASS)
# Children kept per prefix: a full sort of a 50k-150k vocabulary costs more than the prefix's forward. A
# prefix whose tail beyond these carries more than 1% of the mass `coverage` allows to miss gets a full sort.
MAX_CHILDREN = 1024
TAIL_SHARE = 0.01


@dataclass(eq=False)
class _Node:
    tokens: tuple[int, ...]
    logp: float
    text: str
    parent_slots: tuple[int, ...] = ()  # cache columns of the tokens before the last one
    slots: tuple[int, ...] = ()  # cache columns of all its tokens, once expanded
    child_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    child_lp: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float32))


class _Tree:
    """Best-first enumeration state of one prompt."""

    def __init__(
        self,
        lm: LocalModel,
        resolve: Resolve,
        coverage: float,
        max_branches: int,
        max_tokens: int,
        width: int,
    ) -> None:
        self.lm, self.resolve = lm, resolve
        self.coverage, self.max_branches, self.max_tokens, self.width = (
            coverage,
            max_branches,
            max_tokens,
            width,
        )
        self.probs: defaultdict[str, float] = defaultdict(float)
        self.resolved = 0.0
        self.truncated = 0.0
        self.expanded = 0
        self.examined = 0
        self._children_mass = 0.0  # mass of all children of expanded prefixes (each sums to its parent)
        self._examined_mass = 0.0  # of which looked at
        self.root = _Node((), 0.0, "")
        self._cand: list[
            tuple[float, int, _Node, int]
        ] = []  # (-logp, tie, parent, child rank), not yet looked at
        self._open: list[
            tuple[float, int, _Node]
        ] = []  # (-logp, tie, node): unresolved, waiting for expansion
        self._tie = itertools.count()
        value = resolve("", False)
        if value is not None:  # the value does not depend on the answer at all
            self._add(value, 1.0)

    def set_children(self, node: _Node, child_lp: np.ndarray, child_ids: np.ndarray) -> None:
        """The most likely children of an expanded prefix, in descending log-prob."""
        node.child_lp, node.child_ids = child_lp, child_ids
        self._children_mass += math.exp(node.logp)
        self._push_candidate(node, 0)

    def select(self) -> list[_Node]:
        """Look at candidates best-first; return the unresolved prefixes to expand in the next forward."""
        chosen: list[_Node] = []
        chosen_mass = 0.0
        while self.resolved < self.coverage and self.examined < MAX_EXAMINED:
            cand_top = -self._cand[0][0] if self._cand else -math.inf
            open_top = -self._open[0][0] if self._open else -math.inf
            can_expand = self.expanded + len(chosen) < self.max_branches
            if self._open and open_top >= cand_top and can_expand:
                if len(chosen) >= self.width or chosen_mass >= self.coverage - self.resolved:
                    break
                node = heapq.heappop(self._open)[2]
                chosen.append(node)
                chosen_mass += math.exp(node.logp)
            elif self._cand:
                _, _, parent, rank = heapq.heappop(self._cand)
                self._examine(parent, rank)
            else:
                break
        return chosen

    def distribution(self, prompt_tokens: int) -> Distribution:
        probs = dict(self.probs)
        return Distribution(
            probs=probs,
            covered=sum(probs.values()),
            forward_tokens=prompt_tokens + self.expanded,
            method="exact",
            extra={
                "expanded": self.expanded,
                "examined": self.examined,
                "truncated_mass": self.truncated,
                "open_mass": sum(math.exp(-neg) for neg, _, _ in self._open),
                "unexamined_mass": max(0.0, self._children_mass - self._examined_mass),
                "none_key": NONE_KEY,
            },
        )

    def _examine(self, parent: _Node, rank: int) -> None:
        self._push_candidate(parent, rank + 1)
        self.examined += 1
        token = int(parent.child_ids[rank])
        logp = parent.logp + float(parent.child_lp[rank])
        mass = math.exp(logp)
        self._examined_mass += mass
        if token in self.lm.eos_ids:
            value = self.resolve(parent.text, True)
            self._add(NONE_KEY if value is None else value, mass)
            return
        tokens = (*parent.tokens, token)
        text = self.lm.decode(tokens)
        if not text.endswith(REPLACEMENT_CHAR):  # an incomplete character cannot decide anything yet
            value = self.resolve(text, False)
            if value is not None:
                self._add(value, mass)
                return
        if len(tokens) >= self.max_tokens:
            self.truncated += mass
            return
        node = _Node(tokens, logp, text, parent_slots=parent.slots)
        heapq.heappush(self._open, (-logp, next(self._tie), node))

    def _push_candidate(self, node: _Node, rank: int) -> None:
        if rank < len(node.child_ids):
            logp = node.logp + float(node.child_lp[rank])
            if logp < LOG_MIN_MASS:  # also catches -inf: the rest of the siblings are smaller still
                return
            heapq.heappush(self._cand, (-logp, next(self._tie), node, rank))

    def _add(self, value: str, mass: float) -> None:
        self.probs[value] += mass
        self.resolved += mass


def exact_bucket(
    lm: LocalModel,
    prompts: Sequence[Sequence[int]],
    resolve: Sequence[Resolve],
    *,
    coverage: float,
    max_branches: int,
    max_tokens: int,
    width: int,
) -> list[Distribution]:
    """Exact distributions for one bucket of tokenized prompts (expanded together, one forward per step)."""
    trees = [_Tree(lm, r, coverage, max_branches, max_tokens, width) for r in resolve]
    logits, cache, mask = lm.prefill(prompts)
    tail_limit = TAIL_SHARE * (1 - coverage)
    children = _top_children(logits, [0.0] * len(trees), tail_limit)
    for tree, (child_lp, child_ids) in zip(trees, children, strict=True):
        tree.set_children(tree.root, child_lp, child_ids)
    prompt_cols = mask.bool()  # [B, L]: which prompt columns are real tokens
    active = list(range(len(trees)))
    width_so_far = prompt_cols.shape[1]  # cache columns

    while True:
        selections = [trees[a].select() for a in active]
        still = [b for b, nodes in enumerate(selections) if nodes]
        if not still:
            break
        if len(still) < len(active):
            keep = torch.tensor(still, dtype=torch.long, device=lm.device)
            keep_rows(cache, keep)
            prompt_cols = prompt_cols[keep]
            active = [active[b] for b in still]
            selections = [selections[b] for b in still]
        ids, positions, mask4 = _tree_inputs(
            lm, selections, [len(prompts[a]) for a in active], prompt_cols, width_so_far
        )
        n_real = sum(len(nodes) for nodes in selections)
        out = lm.forward(ids, mask4, positions, cache, logits_to_keep=0, real=n_real)
        rows = [b for b, nodes in enumerate(selections) for _ in nodes]
        slots = [j for nodes in selections for j in range(len(nodes))]
        flat = [node for nodes in selections for node in nodes]
        expanded = iter(_top_children(out[rows, slots], [n.logp for n in flat], tail_limit))  # real slots
        for b, nodes in enumerate(selections):
            tree = trees[active[b]]
            for node in nodes:
                tree.set_children(node, *next(expanded))
            tree.expanded += len(nodes)
        lm.stats.expanded_nodes += n_real
        width_so_far += ids.shape[1]

    return [tree.distribution(len(p)) for tree, p in zip(trees, prompts, strict=True)]


def _top_children(
    logits: torch.Tensor, node_logp: Sequence[float], tail_limit: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per position (row of `logits`): next-token log-probs and ids in descending order, the MAX_CHILDREN
    best ones, or all of them when the rest carry more than `tail_limit` of the total mass."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    values, ids = torch.topk(logprobs, min(MAX_CHILDREN, logprobs.shape[-1]), dim=-1)
    tail = (1 - values.exp().sum(-1)).clamp(min=0).cpu().tolist()
    top_lp, top_ids = values.cpu().numpy(), ids.cpu().numpy()
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for r, (lp, rest) in enumerate(zip(node_logp, tail, strict=True)):
        if rest * math.exp(lp) > tail_limit and values.shape[-1] < logprobs.shape[-1]:
            full_lp, full_ids = torch.sort(logprobs[r], descending=True)
            out.append((full_lp.cpu().numpy(), full_ids.cpu().numpy()))
        else:
            out.append((top_lp[r], top_ids[r]))
    return out


def _tree_inputs(
    lm: LocalModel,
    selections: Sequence[Sequence[_Node]],
    prompt_lengths: Sequence[int],
    prompt_cols: torch.Tensor,
    past: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token ids, position ids and the tree attention mask for expanding `selections[b]` in row b.

    Node j of row b takes cache column `past + j`; it attends to the row's real prompt tokens, to the columns
    of its ancestors and to itself. Unused slots only attend to themselves (their output is ignored, and no
    later token attends to them).
    """
    rows, width = len(selections), max(len(nodes) for nodes in selections)
    ids = torch.full((rows, width), lm.pad_id, dtype=torch.long)
    positions = torch.zeros((rows, width), dtype=torch.long)
    allowed = torch.zeros((rows, 1, width, past + width), dtype=torch.bool)
    allowed[:, 0, :, : prompt_cols.shape[1]] = prompt_cols.cpu()[:, None, :]
    b_idx: list[int] = []
    q_idx: list[int] = []
    k_idx: list[int] = []
    for b, nodes in enumerate(selections):
        b_idx += [b] * width
        q_idx += range(width)
        k_idx += range(past, past + width)
        for j, node in enumerate(nodes):
            ids[b, j] = node.tokens[-1]
            positions[b, j] = prompt_lengths[b] + len(node.tokens) - 1
            node.slots = (*node.parent_slots, past + j)
            b_idx += [b] * len(node.parent_slots)
            q_idx += [j] * len(node.parent_slots)
            k_idx += node.parent_slots
        for j in range(len(nodes), width):
            allowed[b, 0, j, :] = False
    allowed[b_idx, 0, q_idx, k_idx] = True
    return ids.to(lm.device), positions.to(lm.device), lm.additive_mask(allowed.to(lm.device))
