"""LocalBackend on the real SmolLM2-135M-Instruct (slow): early stop and batching leave answers unchanged."""

from __future__ import annotations

import re

import pytest

from inward.backends.base import GenerateConfig

pytestmark = pytest.mark.slow

TEMPLATES = [
    "Name a {}.",
    "What is your favourite {}? Answer with one word.",
    "Describe a {} in one sentence.",
    "Tell me a fact about a {}.",
    "Is a {} bigger than a car? Answer yes or no.",
    "Write a short poem about a {}.",
    "What colour is a typical {}?",
    "Give three words that describe a {}.",
    "Spell the word {} backwards.",
    "How many letters are in the word {}?",
    "Pick a random number between 1 and 10, then name a {}.",
]
SUBJECTS = ["animal", "fruit", "city", "river", "planet", "colour", "tree", "car", "song", "book"]
PROMPTS = [[{"role": "user", "content": t.format(s)}] for t in TEMPLATES for s in SUBJECTS]


def first_char(text: str, finished: bool) -> str | None:
    s = text.lstrip()
    return s[0] if s else ("" if finished else None)


def second_char(text: str, finished: bool) -> str | None:
    s = text.lstrip()
    return s[1] if len(s) >= 2 else (s[1:] if finished else None)


def first_word(text: str, finished: bool) -> str | None:
    m = re.match(r"\s*([^\s.,!?;:]+)[\s.,!?;:]", text)
    if m:
        return m.group(1).lower()
    return text.strip().lower() if finished else None


def starts_with_vowel(text: str, finished: bool) -> str | None:
    c = first_char(text, finished)
    return None if c is None else str(c.lower() in "aeiou")


PROPERTIES = {"first_char": first_char, "second_char": second_char, "first_word": first_word}
PROPERTIES["starts_with_vowel"] = starts_with_vowel


def all_determined(text: str) -> bool:
    return all(p(text, False) is not None for p in PROPERTIES.values())


def test_early_stop_gives_the_same_property_values(smollm2) -> None:  # type: ignore[no-untyped-def]
    assert len(PROMPTS) >= 100
    config = GenerateConfig(max_tokens=16)
    smollm2.stats.reset()
    full = smollm2.generate(PROMPTS, config)
    full_tokens = smollm2.stats.generated_tokens
    smollm2.stats.reset()
    early = smollm2.generate(PROMPTS, config, stop_when=[all_determined] * len(PROMPTS))
    assert smollm2.stats.generated_tokens < full_tokens / 2  # the point of stopping early
    n_early = 0
    for f, e in zip(full, early, strict=True):
        f0, e0 = f[0], e[0]
        assert f0.text.startswith(e0.text)
        for name, prop in PROPERTIES.items():
            want = prop(f0.text, True)
            got = prop(e0.text, e0.finish_reason != "early")
            assert got == want, (name, f0.text, e0.text)
        n_early += e0.finish_reason == "early"
    assert n_early >= 90


def test_batch_sizes_agree(smollm2_dir) -> None:  # type: ignore[no-untyped-def]
    """Greedy answers with batch 1 (no padding) and batch 16 (left padding) are identical on 8 prompts of
    different lengths; their log-probs agree to fp32 round-off."""
    from inward.backends.local import LocalBackend

    prompts = PROMPTS[::14]
    config = GenerateConfig(max_tokens=10, top_logprobs=1)
    one = LocalBackend(smollm2_dir, device="cpu", batch_size=1, threads=1).generate(prompts, config)
    many = LocalBackend(smollm2_dir, device="cpu", batch_size=16, threads=1).generate(prompts, config)
    assert [g[0].text for g in one] == [g[0].text for g in many]
    worst = 0.0
    for a, b in zip(one, many, strict=True):
        for pa, pb in zip(a[0].logprobs or [], b[0].logprobs or [], strict=True):
            (ka, va), (kb, vb) = next(iter(pa.items())), next(iter(pb.items()))
            assert ka == kb
            worst = max(worst, abs(va - vb))
    assert worst < 1e-3


def test_exact_first_character_agrees_with_the_next_token_distribution(smollm2) -> None:  # type: ignore[no-untyped-def]
    """P(first character = c) by tree expansion vs the sum of next-token probabilities of the tokens that
    start with c: they differ only by the mass of first tokens without a visible character (spaces,
    special tokens, partial UTF-8), which the expansion resolves further down, and by the uncovered mass."""
    import math

    prompt = [{"role": "user", "content": "Is the number 7 odd or even? Answer with one word."}]
    d = smollm2.distribution([prompt], [first_char], coverage=0.99, max_branches=64, max_tokens=8)[0]
    assert d.covered >= 0.99 and sum(d.probs.values()) == pytest.approx(d.covered)
    assert d.forward_tokens < 100  # the prompt once plus a few expansions
    first = smollm2.next_token_logprobs([prompt], top_k=smollm2._lm.vocab_size)[0]
    by_char: dict[str, float] = {}
    invisible = 0.0
    for text, lp in first.items():
        s = text.lstrip()
        if s and "\ufffd" not in s[:1] and not (s.startswith("<|") and s.endswith("|>")):
            by_char[s[0]] = by_char.get(s[0], 0.0) + math.exp(lp)
        else:
            invisible += math.exp(lp)
    slack = invisible + (1 - d.covered) + 1e-4
    for c in set(by_char) | set(d.probs):
        if max(by_char.get(c, 0.0), d.probs.get(c, 0.0)) > 1e-3:
            assert abs(by_char.get(c, 0.0) - d.probs.get(c, 0.0)) <= slack, c
    assert d.probs["T"] == pytest.approx(by_char["T"], abs=slack)


@pytest.mark.parametrize(
    ("task", "prop"),
    [
        ("animals_long", "second_character"),
        ("mmlu_non_cot", "among_a_or_c"),
        ("survival_instinct", "ethical_stance"),
    ],
)
def test_exact_distribution_agrees_with_600_samples_on_task_prompts(smollm2, task: str, prop: str) -> None:  # type: ignore[no-untyped-def]
    """Real task prompts and properties: the exact distribution (probability mass per value, plus uncovered mass)
    against 600 samples at T=1. The exact mass p of a value is a lower bound on its true probability, and the
    true probability is at most p + (1 - covered), so each sampled frequency must fall in that interval widened
    by 4 standard errors."""
    import math
    from collections import Counter

    from inward import properties as P
    from inward import tasks as T
    from inward.prompts import DEFAULT
    from inward.runs.distributions import object_resolver

    t = T.get(task)
    item = t.items("val")[0]
    prompt = DEFAULT.object_messages(t, item)
    resolve = object_resolver(P.get(prop), item.target)
    exact = smollm2.distribution([prompt], [resolve], coverage=0.99, max_branches=256, max_tokens=16)[0]
    assert sum(exact.probs.values()) == pytest.approx(exact.covered, abs=1e-9)
    uncovered = 1 - exact.covered
    assert uncovered < 0.1

    n = 600
    gens = smollm2.generate(
        [prompt],
        GenerateConfig(temperature=1.0, n=n, max_tokens=16, seed=11),
        stop_when=[lambda s: resolve(s, False) is not None],
    )[0]
    counts = Counter(resolve(g.text, True) or "__none__" for g in gens)
    checked = 0
    for value in set(counts) | set(exact.probs):
        p, f = exact.probs.get(value, 0.0), counts[value] / n
        if max(p, f) < 0.02:
            continue
        sem = math.sqrt(max(p, f) * (1 - max(p, f)) / n)
        assert p - 4 * sem - 1e-3 <= f <= p + uncovered + 4 * sem + 1e-3, (value, p, f, uncovered)
        checked += 1
    assert checked >= (3 if prop == "second_character" else 1)
