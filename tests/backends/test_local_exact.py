"""Exact answer distributions (tree expansion) on a tiny random Llama."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from inward.backends.base import GenerateConfig

torch = pytest.importorskip("torch")

PROMPTS = [
    [{"role": "user", "content": t}]
    for t in ["hi", "the cat sat on the mat", "café crème", "Odd or even?", "numbers: 1 2 3 4 5 6 7"]
]


def first_char(text: str, finished: bool) -> str | None:
    if text:
        return text[0]
    return "" if finished else None


def first_word(text: str, finished: bool) -> str | None:
    m = re.match(r"\s*(\S+)\s", text)
    if m:
        return m.group(1)
    return text.strip() if finished else None


def first_two(text: str, finished: bool) -> str | None:
    return text[:2] if len(text) >= 2 or finished else None


def test_probs_sum_to_covered(tiny) -> None:  # type: ignore[no-untyped-def]
    for resolve in (first_char, first_word):
        dists = tiny.distribution(PROMPTS, [resolve] * len(PROMPTS), coverage=0.95, max_tokens=8)
        for d in dists:
            assert d.method == "exact"
            assert sum(d.probs.values()) == pytest.approx(d.covered, abs=1e-12)
            assert all(p > 0 for p in d.probs.values())
            assert d.covered <= 1 + 1e-6
            # either the coverage is reached or a limit stopped the enumeration
            assert d.covered >= 0.95 or d.extra["expanded"] >= 64 or d.extra["truncated_mass"] > 0
            parts = ("truncated_mass", "open_mass", "unexamined_mass")
            assert d.covered + sum(d.extra[k] for k in parts) == pytest.approx(1.0, abs=1e-5)


def test_first_char_reaches_coverage_with_prompt_plus_expansions(tiny) -> None:  # type: ignore[no-untyped-def]
    dists = tiny.distribution(PROMPTS, [first_char] * len(PROMPTS), coverage=0.99, max_branches=256)
    for prompt, d in zip(PROMPTS, dists, strict=True):
        assert d.covered >= 0.99
        assert d.forward_tokens == len(tiny._lm.encode(prompt)) + d.extra["expanded"]


def test_a_value_fixed_by_the_prompt_costs_one_prefill(tiny) -> None:  # type: ignore[no-untyped-def]
    tiny.stats.reset()
    d = tiny.distribution(PROMPTS[:1], [lambda text, finished: "same"])[0]
    assert d.probs == {"same": 1.0} and d.covered == 1.0 and d.extra["expanded"] == 0


def test_limits_leave_mass_uncovered(tiny) -> None:  # type: ignore[no-untyped-def]
    never = [lambda text, finished: "end" if finished else None] * 2
    short = tiny.distribution(PROMPTS[:2], never, max_tokens=2, max_branches=1000, coverage=0.99)
    for d in short:
        # answers of >2 tokens never resolve; their mass is truncated, not invented
        assert d.extra["truncated_mass"] > 0.5
        parts = d.extra["truncated_mass"] + d.extra["open_mass"] + d.extra["unexamined_mass"]
        assert d.covered + parts == pytest.approx(1.0, abs=1e-5)
        assert d.extra["unexamined_mass"] < 0.01
        assert set(d.probs) <= {"end"}
    few = tiny.distribution(PROMPTS[:2], never, max_tokens=50, max_branches=5)
    assert all(d.extra["expanded"] <= 5 and d.covered < 0.5 for d in few)


def test_eos_without_a_value_goes_to_the_none_bucket(tiny) -> None:  # type: ignore[no-untyped-def]
    from inward.backends.base import NONE_KEY

    d = tiny.distribution(PROMPTS[:1], [lambda text, finished: None], max_tokens=2, max_branches=300)[0]
    assert set(d.probs) <= {NONE_KEY}
    assert d.extra["truncated_mass"] > 0


def test_exact_matches_sampling(tiny) -> None:  # type: ignore[no-untyped-def]
    """The exact first-character distribution agrees with 800 samples at T=1 within 4 standard errors."""
    prompt = PROMPTS[1]
    exact = tiny.distribution([prompt], [first_char], coverage=0.999, max_branches=512, max_tokens=16)[0]
    assert exact.covered >= 0.999
    n = 800
    gens = tiny.generate(
        [prompt],
        GenerateConfig(temperature=1.0, n=n, max_tokens=16, seed=3),
        stop_when=[lambda s: first_char(s, False) is not None],
    )[0]
    values = [first_char(g.text, g.finish_reason == "stop") for g in gens]
    counts = Counter(v if v is not None else "__unresolved__" for v in values)
    assert counts["__unresolved__"] <= 0.01 * n
    checked = 0
    for value, p in exact.probs.items():
        if p < 0.01:
            continue
        sem = math.sqrt(p * (1 - p) / n)
        assert abs(counts[value] / n - p) <= 4 * sem + 1e-3, (value, p, counts[value] / n)
        checked += 1
    assert checked >= 3
    # and every frequent sampled value is one the enumeration found
    for value, c in counts.items():
        if c / n >= 0.02:
            assert value in exact.probs


@pytest.mark.parametrize("which", ["tiny", pytest.param("smollm2", marks=pytest.mark.slow)])
def test_tree_attention_equals_plain_forwards(which: str, request: pytest.FixtureRequest) -> None:
    """Expanding several prefixes of two padded prompts in one forward gives each prefix's true next-token
    log-probs (checked against a plain forward of prompt + prefix, batch 1, no cache)."""
    from inward.backends._local_exact import _Node, _tree_inputs

    lm = request.getfixturevalue(which)._lm
    prompts = [lm.encode(PROMPTS[0]), lm.encode(PROMPTS[4])]
    assert len(prompts[0]) != len(prompts[1])  # so the first row is left-padded
    _, cache, mask = lm.prefill(prompts)
    cols = mask.bool()
    past = cols.shape[1]
    a, b, c = 40, 41, 42
    step1 = [[_Node((a,), 0.0, ""), _Node((b,), 0.0, "")], [_Node((c,), 0.0, "")]]
    ids, pos, m4 = _tree_inputs(lm, step1, [len(p) for p in prompts], cols, past)
    lm.forward(ids, m4, pos, cache, logits_to_keep=0, real=3)
    past += ids.shape[1]
    parent_a, parent_b, parent_c = step1[0][0], step1[0][1], step1[1][0]
    step2 = [
        [
            _Node((a, 50), 0.0, "", parent_slots=parent_a.slots),
            _Node((b, 51), 0.0, "", parent_slots=parent_b.slots),
        ],
        [
            _Node((c, 52), 0.0, "", parent_slots=parent_c.slots),
            _Node((c, 53), 0.0, "", parent_slots=parent_c.slots),
            _Node((c, 54), 0.0, "", parent_slots=parent_c.slots),
        ],
    ]
    ids, pos, m4 = _tree_inputs(lm, step2, [len(p) for p in prompts], cols, past)
    logits = lm.forward(ids, m4, pos, cache, logits_to_keep=0, real=5)
    got = torch.log_softmax(logits.float(), -1)
    for row, nodes in enumerate(step2):
        for j, node in enumerate(nodes):
            full = torch.tensor([prompts[row] + list(node.tokens)])
            with torch.no_grad():
                want = torch.log_softmax(lm.model(input_ids=full).logits[0, -1].float(), -1)
            # compare where the mass is: far-tail log-probs of a real model carry more round-off
            top = want > -15
            assert torch.allclose(got[row, j][top], want[top], atol=2e-4), (row, j)


def test_batched_and_single_prompt_enumeration_agree(tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    from inward.backends.local import LocalBackend

    one = LocalBackend(tiny_model_dir, device="cpu", batch_size=1, expand_width=1, threads=1)
    many = LocalBackend(tiny_model_dir, device="cpu", batch_size=8, expand_width=8, threads=1)
    kw = {"coverage": 0.95, "max_branches": 400, "max_tokens": 10}
    d1 = one.distribution(PROMPTS, [first_two] * len(PROMPTS), **kw)
    d8 = many.distribution(PROMPTS, [first_two] * len(PROMPTS), **kw)
    for x, y in zip(d1, d8, strict=True):
        assert x.covered >= 0.95 and y.covered >= 0.95
        # The order of enumeration differs, so each may have missed a different part of a value's mass, but
        # never more than the mass it left uncovered: true >= estimate >= true - (1 - covered).
        slack = 1 - min(x.covered, y.covered) + 1e-5
        for value in set(x.probs) | set(y.probs):
            assert abs(x.probs.get(value, 0.0) - y.probs.get(value, 0.0)) <= slack
