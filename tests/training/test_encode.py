from __future__ import annotations

import json
from typing import Any

import pytest

from inward.errors import UserError
from inward.training.chat_data import parse_chat_line
from inward.training.encode import IGNORE, Encoded, collate, encode_example, plan_batches, shard


def _ex(*turns: tuple[str, str] | tuple[str, str, int]) -> Any:
    msgs = [{"role": t[0], "content": t[1], **({"weight": t[2]} if len(t) == 3 else {})} for t in turns]
    return parse_chat_line(json.dumps({"messages": msgs}))


def _ids(tok: Any, text: str) -> list[int]:
    return list(tok(text, add_special_tokens=False)["input_ids"])


def test_answer_tokens_follow_the_generation_prompt(tiny_tokenizer: Any) -> None:
    tok = tiny_tokenizer
    ex = _ex(("system", ""), ("user", "What is your favourite colour?"), ("assistant", "blue"))
    enc = encode_example(tok, ex, max_len=256)
    prompt = tok.apply_chat_template(
        [{"role": "system", "content": ""}, {"role": "user", "content": "What is your favourite colour?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    prompt_ids = _ids(tok, prompt)
    answer_ids = [*_ids(tok, "blue"), tok.convert_tokens_to_ids("<|im_end|>")]
    assert enc.input_ids == prompt_ids + answer_ids
    assert enc.labels == [IGNORE] * len(prompt_ids) + answer_ids
    assert enc.n_answer_tokens == len(answer_ids) and not enc.truncated


def test_multi_turn_weights_and_cut_after_last_trained(tiny_tokenizer: Any) -> None:
    tok = tiny_tokenizer
    ex = _ex(("user", "q1"), ("assistant", "cat", 0), ("user", "q2"), ("assistant", "dog"), ("user", "q3"))
    enc = encode_example(tok, ex, max_len=256)
    full = tok.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in ex.messages[:4]], tokenize=False
    )
    # The same tokens as the rendered conversation, minus the newline the template puts after the last turn.
    assert enc.input_ids == _ids(tok, full.removesuffix("\n"))
    trained = [t for t in enc.labels if t != IGNORE]
    assert trained == [*_ids(tok, "dog"), tok.eos_token_id]
    # "cat" (weight 0) is in the input but carries no label
    cat = _ids(tok, "cat")
    start = next(i for i in range(len(enc.input_ids)) if enc.input_ids[i : i + len(cat)] == cat)
    assert all(enc.labels[i] == IGNORE for i in range(start, start + len(cat) + 1))


def test_truncation_keeps_the_answer(tiny_tokenizer: Any) -> None:
    ex = _ex(("user", "Name an animal " * 20), ("assistant", "goat"))
    full = encode_example(tiny_tokenizer, ex, max_len=1000)
    cut = encode_example(tiny_tokenizer, ex, max_len=24)
    assert cut.truncated and len(cut.input_ids) == 24
    assert cut.input_ids == full.input_ids[-24:] and cut.labels == full.labels[-24:]
    with pytest.raises(UserError, match="raise max_len"):
        encode_example(tiny_tokenizer, _ex(("user", "x"), ("assistant", "blue " * 20)), max_len=8)


def test_template_that_rewrites_history_is_rejected(tiny_tokenizer: Any) -> None:
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    # A template that upper-cases past assistant turns: the answer cannot be located after the prompt.
    tok.chat_template = tok.chat_template.replace("{{ m['content'] }}", "{{ m['content'] | upper }}")
    with pytest.raises(UserError, match="single-turn"):
        encode_example(tok, _ex(("user", "q"), ("assistant", "cat")), max_len=64)


def test_plan_batches_is_a_seeded_partition() -> None:
    lengths = [5 + (i * 7) % 13 for i in range(37)]
    plan = plan_batches(lengths, batch_size=4, seed=1, epoch=0)
    assert sorted(i for b in plan for i in b) == list(range(37))
    assert sorted(len(b) for b in plan) == [1] + [4] * 9
    assert plan == plan_batches(lengths, batch_size=4, seed=1, epoch=0)
    assert plan != plan_batches(lengths, batch_size=4, seed=1, epoch=1)
    assert plan != plan_batches(lengths, batch_size=4, seed=2, epoch=0)
    # 37 examples fit one length group (4*16): batches hold neighbours in length, in shuffled order
    by_length = sorted(range(37), key=lambda j: -lengths[j])
    assert sorted(sorted(lengths[i] for i in b) for b in plan) == sorted(
        sorted(lengths[i] for i in by_length[s : s + 4]) for s in range(0, 37, 4)
    )
    firsts = [max(lengths[i] for i in b) for b in plan]
    assert firsts != sorted(firsts, reverse=True)
    flat = plan_batches(lengths, batch_size=4, seed=1, epoch=0, group_by_length=False)
    assert sorted(i for b in flat for i in b) == list(range(37)) and flat != plan


def test_shard_pads_to_equal_work() -> None:
    plan = [[0], [1], [2], [3], [4]]
    parts = [shard(plan, r, 2) for r in range(2)]
    assert parts == [[[0], [2], [4]], [[1], [3], [0]]]
    assert shard(plan, 0, 1) == plan


def test_collate_right_pads() -> None:
    b = collate([Encoded([1, 2, 3], [IGNORE, 2, 3]), Encoded([4], [IGNORE])], pad_id=0)
    assert b["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert b["labels"].tolist() == [[IGNORE, 2, 3], [IGNORE, IGNORE, IGNORE]]
