"""Shared-prefix prefill: the grouping logic by hand, and that sharing changes the work but not the answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from inward.backends._local_prefix import MIN_SHARED, Group, prefix_groups, share_batches, split_points

HEAD = list(range(100, 140))  # 40 tokens every prompt of an "item" shares


def _item(k: int, n_questions: int = 2) -> list[list[int]]:
    """The hypotheticals of one item: a shared 40-token head, the item's 10 tokens, one question each."""
    body = [*HEAD, *range(1000 + 10 * k, 1010 + 10 * k)]
    return [[*body, 5000 + q, 5100 + q, 5200 + q] for q in range(n_questions)]


def test_groups_pair_the_questions_of_an_item() -> None:
    prompts = [*_item(0), *_item(1), *_item(2)]
    groups = prefix_groups(prompts, max_group=16)
    # Grouping all six on the common 40-token head saves 5 * 40 = 200 tokens; pairing each item's two
    # questions on their 50-token prefix saves 3 * 50 = 150; the first wins.
    assert groups == [Group((0, 1, 2, 3, 4, 5), 40)]
    pairs = prefix_groups(prompts, max_group=2)
    assert pairs == [Group((0, 1), 50), Group((2, 3), 50), Group((4, 5), 50)]
    assert sum(g.saved for g in pairs) == 150


def test_a_group_always_leaves_each_prompt_a_token_and_short_prefixes_are_not_shared() -> None:
    same = [[*HEAD], [*HEAD], [*HEAD, 7]]
    (g,) = prefix_groups(same, max_group=8)
    assert g.members == (0, 1, 2) and g.shared == len(HEAD) - 1
    unrelated = [[1] * (MIN_SHARED - 1) + [2, 3], [1] * (MIN_SHARED - 1) + [4, 5], [9, 9, 9]]
    assert [len(g.members) for g in prefix_groups(unrelated, max_group=8)] == [1, 1, 1]
    assert split_points(unrelated) is None


def test_batches_keep_groups_whole_and_cover_every_prompt_once() -> None:
    prompts = [*_item(0, 3), *_item(1, 3), *_item(2, 3), [7] * 30]
    batches = share_batches(prompts, batch_size=4)
    assert sorted(i for b in batches for i in b) == list(range(len(prompts)))
    assert all(len(b) <= 4 for b in batches)
    for b in batches[:-1]:  # each item's three questions stay together
        items = {i // 3 for i in b if i < 9}
        assert all({3 * k, 3 * k + 1, 3 * k + 2} <= set(b) for k in items)


def test_split_points_by_hand() -> None:
    assert split_points([*_item(0), [8] * 60]) is None  # saves 50 tokens: below MIN_SAVED, one plain prefill
    prompts = [*_item(0, 3), [8] * 60]  # saves 2 * 50
    group_of, heads = split_points(prompts) or ([], [])
    assert group_of[0] == group_of[1] == group_of[2] != group_of[3]
    assert heads[group_of[0]] == 50
    assert heads[group_of[3]] == 50  # a prompt on its own puts as much in the head as the widest group


def _hypotheticals(n_items: int) -> list[list[dict[str, str]]]:
    out = []
    for k in range(n_items):
        quoted = f"Consider the text number {k}: the cat sat on the mat and looked at the hat {k}."
        for q in ("What is its first word?", "Is it odd or even?", "Name a colour: blue, red, green."):
            out.append([{"role": "user", "content": f"{quoted} Do not answer now. {q}"}])
    return out


@pytest.mark.parametrize("batch_size", [4, 16])
def test_sharing_changes_the_work_not_the_answers(tiny_model_dir: Path, batch_size: int) -> None:
    import torch

    from inward.backends.base import GenerateConfig
    from inward.backends.local import LocalBackend

    prompts = _hypotheticals(5)
    runs = {}
    for share in (False, True):
        lm = LocalBackend(
            tiny_model_dir, device="cpu", batch_size=batch_size, threads=1, share_prefixes=share
        )
        texts = [g[0].text for g in lm.generate(prompts, GenerateConfig(temperature=0.0, max_tokens=8))]
        dists = lm.distribution(prompts, [lambda text, done: text[:1] or None] * len(prompts))
        encoded = [lm._lm.encode(p) for p in prompts[:batch_size]]
        with torch.inference_mode():
            logits, _, _ = lm._lm.prefill(encoded)
        runs[share] = (texts, dists, logits, lm.stats.as_dict())
    (t0, d0, l0, s0), (t1, d1, l1, s1) = runs[False], runs[True]
    assert t1 == t0
    for a, b in zip(d0, d1, strict=True):
        assert a.probs.keys() == b.probs.keys()
        assert all(abs(a.probs[k] - b.probs[k]) < 1e-5 for k in a.probs)
    assert torch.allclose(l0, l1, atol=1e-4)
    assert s0["shared_tokens"] == 0 and s1["shared_tokens"] > 0
    # Every token the shared prefill skipped is a token it did not compute.
    assert s1["forward_tokens"] == s0["forward_tokens"] - s1["shared_tokens"]


def test_mixed_batch_with_unshared_prompts(tiny_model_dir: Path) -> None:
    """Rows on their own and rows in a group, of very different lengths, in one shared prefill."""
    import torch

    from inward.backends.local import LocalBackend

    prompts = [*_hypotheticals(2), [{"role": "user", "content": "numbers: 1 2 3"}]]
    plain = LocalBackend(tiny_model_dir, device="cpu", threads=1, share_prefixes=False)
    shared = LocalBackend(tiny_model_dir, device="cpu", threads=1)
    encoded = [plain._lm.encode(p) for p in prompts]
    assert split_points(encoded) is not None
    with torch.inference_mode():
        a, _, mask_a = plain._lm.prefill(encoded)
        b, _, mask_b = shared._lm.prefill(encoded)
    assert torch.allclose(a, b, atol=1e-4)
    # Both masks hold each prompt's tokens exactly once.
    assert mask_a.sum(1).tolist() == mask_b.sum(1).tolist() == [len(e) for e in encoded]
