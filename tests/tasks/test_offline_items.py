"""Invariants of every offline task's items: counts, splits, ids, balance, format and generation rules."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inward import tasks
from inward.tasks.facts import CAPITALS, ELEMENTS
from inward.tasks.registry import OFFLINE_TASKS
from inward.tasks.wordlists import ANIMALS, COLORS, COUNTRIES, english_words

OFFLINE = [t.name for t in OFFLINE_TASKS]
STANCE_TASKS = ["wealth_seeking", "power_seeking", "myopic_reward", "survival_instinct"]
MC_TASKS = ["arc_challenge_non_cot", "mmlu_non_cot"]
SRC = Path(__file__).resolve().parents[2] / "src"

# Computed once from the generators; they must never change (ids key the store's cache and behaviours).
EXPECTED_IDS = {
    "wikipedia_long": ("31c7ea9ab0a4890c", "41527119a224474e", "b3ce3bd37b5f272c"),
    "countries_long": ("70b902742e81ef1d", "0f817b2f29375291", "c83b03d127146913"),
    "colors_long": ("5a3ea64e3077b612", "a6210f9ca5d2acfe", "9896a748e566f410"),
    "wealth_seeking": ("c0c3fc580148090c", "3d9dfe6686a91a9a", "2f8f167f238e205d"),
    "power_seeking": ("8fdaebb920f2e01f", "5891c4cfea838886", "888e7eb8bef02c99"),
    "arc_challenge_non_cot": ("145ebbd4f8852b24", "2f72711b891f6fb3", "67d24f014967ae43"),
    "numbers": ("da2277b527d11612", "10d6ada30e336734", "97bc1623c105eea6"),
    "animals_long": ("7160f1aafce1558b", "a831dab135ae397b", "8606383d359f7c1e"),
    "english_words_long": ("02102471ffbfb44e", "eb88f60c834ca795", "dd659718bf612fda"),
    "stories_sentences": ("9078be3d03733720", "56ad06ddf7d4bf80", "08802eabb176e251"),
    "myopic_reward": ("7dd45a22112811c8", "e6d7b020695ae633", "6d319e73b3db8013"),
    "survival_instinct": ("b93528c97523d314", "08580ac01e89e50a", "da9651aee0dfcfe8"),
    "mmlu_non_cot": ("70abbb5a519ac2d4", "1d14a242bc130e28", "f4be6acb2f870658"),
}


@pytest.mark.parametrize("name", OFFLINE)
def test_counts_splits_and_ids(name: str) -> None:
    task = tasks.get(name)
    train, val = task.items("train"), task.items("val")
    assert len(train) >= 300 and len(val) >= 300
    assert all(it.split == "train" for it in train) and all(it.split == "val" for it in val)
    assert all(it.task == name for it in (*train, *val))
    texts = [it.text for it in (*train, *val)]
    assert len(set(texts)) == len(texts), "duplicate texts"
    assert not {it.text for it in train} & {it.text for it in val}, "train and val overlap"
    ids = [it.id for it in (*train, *val)]
    assert len(set(ids)) == len(ids)
    assert all(it.id == tasks.stable_id(name, it.text) for it in (*train, *val))


@pytest.mark.parametrize("name", OFFLINE)
def test_ids_are_stable(name: str) -> None:
    task = tasks.get(name)
    val, train = task.items("val"), task.items("train")
    assert (val[0].id, val[-1].id, train[0].id) == EXPECTED_IDS[name]


def test_items_do_not_depend_on_hash_seed_or_process() -> None:
    """Set iteration order changes with PYTHONHASHSEED; generated items must not."""
    code = (
        "import hashlib; from inward.tasks.registry import OFFLINE_TASKS; h = hashlib.sha256()\n"
        "for t in OFFLINE_TASKS:\n"
        "    for s in ('train', 'val'):\n"
        "        for it in t.items(s): h.update((it.id + str(it.target)).encode())\n"
        "print(h.hexdigest())"
    )
    digests = set()
    for seed in ("1", "2"):
        env = {"PYTHONPATH": str(SRC), "PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("name", OFFLINE)
def test_every_item_renders(name: str) -> None:
    task = tasks.get(name)
    assert task.instruction.count("{item}") == 1
    for item in (*task.items("train"), *task.items("val")):
        prompt = task.render(item)
        assert item.text in prompt and "{item}" not in prompt


@pytest.mark.parametrize("name", STANCE_TASKS)
def test_stance_items_are_exactly_balanced(name: str) -> None:
    for split in ("train", "val"):
        items = tasks.get(name).items(split)
        counts = collections.Counter(it.target for it in items)
        assert counts["A"] == counts["B"] == len(items) // 2
        for it in items:
            question, choices = it.text.split("\n\nChoices:\n")
            assert question.strip() and re.fullmatch(r"A - [^\n]+\nB - [^\n]+", choices), it.text


@pytest.mark.parametrize("name", STANCE_TASKS)
def test_stance_question_stems_do_not_cross_splits(name: str) -> None:
    stems = {
        s: {it.text.split("\n\nChoices:")[0] for it in tasks.get(name).items(s)} for s in ("train", "val")
    }
    assert not stems["train"] & stems["val"]


@pytest.mark.parametrize("name", MC_TASKS)
def test_multiple_choice_letters_are_exactly_balanced(name: str) -> None:
    for split in ("train", "val"):
        items = tasks.get(name).items(split)
        counts = collections.Counter(it.target for it in items)
        assert set(counts) == set("ABCD") and len(set(counts.values())) == 1
        for it in items:
            question, choices = it.text.split("\n\nAnswer choices:\n")
            options = re.fullmatch(r"A - ([^\n]+)\nB - ([^\n]+)\nC - ([^\n]+)\nD - ([^\n]+)", choices)
            assert question.strip() and options, it.text
            assert len(set(options.groups())) == 4, it.text


def _options(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-D]) - (.+)$", text, flags=re.M))


def test_multiple_choice_answers_are_correct() -> None:
    """Recompute the answer of every question whose facts or arithmetic can be checked independently."""
    checked = 0
    symbols = {e.name: e.symbol for e in ELEMENTS}
    capitals = {country.title(): capital for country, (capital, _) in CAPITALS.items()}
    for name in MC_TASKS:
        task = tasks.get(name)
        for it in (*task.items("train"), *task.items("val")):
            stem, chosen = it.text.split("\n\n")[0], _options(it.text)[it.target or ""]
            if m := re.fullmatch(r"What is (\d+) ([+-]|times) (\d+)\?", stem):
                a, op, b = int(m[1]), m[2], int(m[3])
                assert int(chosen) == (a + b if op == "+" else a - b if op == "-" else a * b), it.text
            elif m := re.fullmatch(r"What is the capital of (\w+)\?", stem):
                assert chosen == capitals[m[1]], it.text
            elif m := re.fullmatch(r"What is the chemical symbol for (\w+)\?", stem):
                assert chosen == symbols[m[1]], it.text
            elif m := re.fullmatch(r"What is the remainder when (\d+) is divided by (\d+)\?", stem):
                assert int(chosen) == int(m[1]) % int(m[2]), it.text
            elif m := re.fullmatch(r"What is the decimal value of the binary number ([01]+)\?", stem):
                assert int(chosen) == int(m[1], 2), it.text
            else:
                continue
            checked += 1
    assert checked > 200


def test_sequence_generation_rules() -> None:
    def words(name: str) -> list[list[str]]:
        task = tasks.get(name)
        return [it.text.split() for it in (*task.items("train"), *task.items("val"))]

    for seq in words("countries_long"):
        assert 3 <= len(seq) <= 6 and len(set(seq)) == len(seq) and set(seq) <= set(COUNTRIES)
    for seq in words("colors_long"):
        assert len(seq) == 5 and len(set(seq)) == 5 and set(seq) <= set(COLORS)
    for seq in words("numbers"):
        assert 3 <= len(seq) <= 6 and all(len(d) == 1 and d.isdigit() for d in seq)
    for seq in words("animals_long"):
        assert 7 <= len(seq) <= 10 and set(seq) <= set(ANIMALS)
    vocabulary = set(english_words())
    for seq in words("english_words_long"):
        assert len(seq) == 5 and set(seq) <= vocabulary
    for name in ("animals_long", "english_words_long"):
        assert all(it.text.endswith(" ") for it in tasks.get(name).items("val"))
    assert any(len(set(s)) < len(s) for s in words("animals_long")), "animals are drawn with replacement"
    assert (len(COUNTRIES), len(COLORS), len(ANIMALS)) == (100, 100, 30)


def test_wikipedia_openings_have_12_to_20_words_and_a_next_word() -> None:
    task = tasks.get("wikipedia_long")
    for it in (*task.items("train"), *task.items("val")):
        assert 12 <= len(it.text.split()) <= 20
        assert it.target and re.fullmatch(r"[\w'-]+", it.target), it.target


def test_generators_are_deterministic_across_cache_clears() -> None:
    from inward.tasks import sequences, stance

    before = (stance.survival_instinct(), sequences.numbers())
    stance.survival_instinct.cache_clear()
    sequences.numbers.cache_clear()
    after = (stance.survival_instinct(), sequences.numbers())
    assert after == before and after[0] is not before[0]
