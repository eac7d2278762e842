"""One optimizer step weighs every answer token equally, however its rows are split into micro-batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from accelerate import Accelerator  # noqa: E402

from inward.training.chat_data import parse_chat_line  # noqa: E402
from inward.training.config import TrainConfig  # noqa: E402
from inward.training.encode import Encoded, collate, encode_example  # noqa: E402
from inward.training.lora import _optimizer_step  # noqa: E402
from inward.training.loss import AnswerOnlyLoss, answer_tokens  # noqa: E402

# Answers of very different lengths, so the two micro-batches below hold different numbers of answer tokens.
CHATS = [
    ("Name an animal:", "cat"),
    ("The capital of France is", "Paris. 0 1 2 3 4 5 6 7 8 9"),
    ("What is your favourite colour?", "blue red green yellow"),
]
GROUP = [[0], [1, 2]]  # micro-batch 1: one short answer; micro-batch 2: two long ones


class Recorder:
    """Stands in for the optimizer: keeps the gradients it is asked to apply (and applies none)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.grads: list[dict[str, Any]] = []

    def step(self) -> None:
        self.grads.append({k: p.grad.detach().clone() for k, p in self.params.items()})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params.values():
            p.grad = None


class NoSchedule:
    def step(self) -> None:
        pass


@pytest.fixture(scope="module")
def setup(tiny_model_dir: Path, tiny_tokenizer: Any) -> tuple[Any, list[Encoded]]:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # non-zero B so that A gets gradients as well
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.1)
    lines = [
        json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        for q, a in CHATS
    ]
    encoded = [encode_example(tiny_tokenizer, parse_chat_line(x), max_len=128) for x in lines]
    return model, encoded


def _trainable(model: Any) -> dict[str, Any]:
    return {k: p for k, p in model.named_parameters() if p.requires_grad}


def _grads_of(model: Any, loss: Any) -> dict[str, Any]:
    model.zero_grad(set_to_none=True)
    loss.backward()
    out = {k: p.grad.detach().clone() for k, p in _trainable(model).items()}
    model.zero_grad(set_to_none=True)
    return out


def _close(a: dict[str, Any], b: dict[str, Any], atol: float) -> bool:
    return all(torch.allclose(a[k], b[k], atol=atol, rtol=1e-4) for k in a)


def test_accumulated_step_equals_one_batch_of_all_rows(
    setup: tuple[Any, list[Encoded]], tiny_tokenizer: Any
) -> None:
    model, encoded = setup
    pad = tiny_tokenizer.pad_token_id
    loss_fn = AnswerOnlyLoss(model)
    tokens = [answer_tokens(collate([encoded[i] for i in idx], pad)["labels"]) for idx in GROUP]
    assert tokens[1] > 3 * tokens[0]  # the design: very unequal micro-batches

    # Reference: all three rows in one batch, mean loss over all answer tokens.
    full = collate(encoded, pad)
    s, n = loss_fn(**full)
    assert int(n) == sum(tokens)
    reference = _grads_of(model, s / n)
    reference_loss = float((s / n).detach())

    # The old rule, a mean of per-micro-batch means, weighs the short answer's tokens up.
    parts = [loss_fn(**collate([encoded[i] for i in idx], pad)) for idx in GROUP]
    old_loss = sum(ps / pn for ps, pn in parts) / len(parts)
    old = _grads_of(model, old_loss)
    assert not _close(old, reference, atol=1e-4)
    assert abs(float(old_loss) - reference_loss) > 1e-3

    # inward's step with grad_accum=2 over the same two micro-batches.
    recorder = Recorder(_trainable(model))
    config = TrainConfig(grad_accum=2, batch_size=2, max_grad_norm=None, device="cpu")
    acc = Accelerator(cpu=True)
    loss = _optimizer_step(acc, loss_fn, recorder, NoSchedule(), GROUP, encoded, tiny_tokenizer, config)
    (step,) = recorder.grads
    assert _close(step, reference, atol=1e-6)
    assert loss == pytest.approx(reference_loss, abs=1e-5)  # reported loss: the token-weighted mean
    assert all(p.grad is None for p in _trainable(model).values())  # zeroed after the step
