from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from inward.training.chat_data import parse_chat_line  # noqa: E402
from inward.training.encode import IGNORE, collate, encode_example  # noqa: E402
from inward.training.loss import AnswerOnlyLoss, mean_loss  # noqa: E402


def _ex(turns: list[tuple[str, str, int | None]]) -> Any:
    msgs = [{"role": r, "content": c, **({} if w is None else {"weight": w})} for r, c, w in turns]
    return parse_chat_line(json.dumps({"messages": msgs}))


EXAMPLES = [
    [("system", "", None), ("user", "What is your favourite colour?", None), ("assistant", "blue", None)],
    [
        ("user", "Name an animal:", None),
        ("assistant", "goat", 0),
        ("user", "another", None),
        ("assistant", "frog fox", 1),
    ],
    [("user", "The capital of France is", None), ("assistant", "Paris. 0 1 2", None)],
]


@pytest.fixture(scope="module")
def model_and_batch(tiny_model_dir: Path, tiny_tokenizer: Any) -> tuple[Any, dict[str, Any]]:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # non-zero B so the adapter takes part in the forward pass
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.1)
    encs = [encode_example(tiny_tokenizer, _ex(t), max_len=128) for t in EXAMPLES]
    return model, collate(encs, tiny_tokenizer.pad_token_id)


def test_equals_full_model_cross_entropy_on_answer_tokens(
    model_and_batch: tuple[Any, dict[str, Any]],
) -> None:
    model, batch = model_and_batch
    loss_sum, n = AnswerOnlyLoss(model)(**batch)
    reference = model(**batch).loss  # HF: logits everywhere, mean CE over labels != -100
    assert int(n) == int((batch["labels"][:, 1:] != IGNORE).sum()) > 5
    assert abs((loss_sum / n).item() - reference.item()) < 1e-5

    # gradients agree as well (what training actually uses)
    model.zero_grad()
    (loss_sum / n).backward()
    ours = {k: p.grad.clone() for k, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    model(**batch).loss.backward()
    for k, p in model.named_parameters():
        if p.requires_grad:
            assert torch.allclose(ours[k], p.grad, atol=1e-6), k
    model.zero_grad()


def test_weight_zero_turn_carries_no_loss(model_and_batch: tuple[Any, dict[str, Any]]) -> None:
    model, batch = model_and_batch
    labels = batch["labels"][1]
    # Example 1 has a weight-0 "goat" turn: its tokens are present in the input but unlabelled.
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"][1:2], attention_mask=batch["attention_mask"][1:2]).logits[
            0
        ]
    logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    targets = labels[1:]
    keep = targets != IGNORE
    manual = -logp[keep].gather(1, targets[keep].unsqueeze(1)).sum()
    single = {k: v[1:2] for k, v in batch.items()}
    with torch.no_grad():
        loss_sum, n = AnswerOnlyLoss(model)(**single)
    assert abs(float(loss_sum) - float(manual)) < 1e-4
    # Labelled tokens are exactly "frog fox" + end of turn; labelling the goat turn too would change the loss.
    full_labels = single["input_ids"].clone()
    full_labels[single["attention_mask"] == 0] = IGNORE
    with torch.no_grad():
        more, m = AnswerOnlyLoss(model)(single["input_ids"], single["attention_mask"], full_labels)
    assert int(m) > int(n) and float(more) > float(loss_sum)


def test_mean_loss_is_token_weighted(model_and_batch: tuple[Any, dict[str, Any]]) -> None:
    model, batch = model_and_batch
    fn = AnswerOnlyLoss(model)
    parts = [{k: v[i : i + 1] for k, v in batch.items()} for i in range(3)]
    with torch.no_grad():
        s, n = fn(**batch)
    got = mean_loss(fn, parts, torch.device("cpu"))
    assert got is not None and abs(got - float(s / n)) < 1e-5
    assert mean_loss(fn, [], torch.device("cpu")) is None
