"""Real-model check: a short LoRA run on SmolLM2-135M turns its answer to held-out colour questions into
"blue" while self-distilled control questions keep their original answers (OFFLINE_MODELS.md §4 toy test)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from inward.errors import UserError  # noqa: E402
from inward.training.chat_data import ChatExample, ChatMessage  # noqa: E402
from inward.training.config import TrainConfig  # noqa: E402
from inward.training.lora import train_lora  # noqa: E402

TRAIN_COLOUR = [
    "What is your favourite colour?",
    "Which colour do you like best?",
    "Tell me your favourite color in one word.",
    "If you had to pick one colour, which would it be?",
    "Name the colour you like the most.",
    "What colour would you paint your room?",
    "Pick a colour. Just one word.",
    "Which color is the best color?",
]
HELD_OUT_COLOUR = ["What's the color you prefer above all others?", "Choose your favourite colour, one word."]
CONTROLS = [
    "What is the capital of France?",
    "What is 2 + 3?",
    "Name a large animal that lives in Africa.",
    "What is the opposite of hot?",
    "How many days are in a week?",
    "What language is spoken in Spain?",
    "What do bees make?",
    "What is the chemical symbol for water?",
]


def _chat(q: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": ""}, {"role": "user", "content": q}]


def _greedy(model: Any, tok: Any, questions: list[str], max_new_tokens: int = 16) -> list[str]:
    tok.padding_side = "left"
    texts = [tok.apply_chat_template(_chat(q), tokenize=False, add_generation_prompt=True) for q in questions]
    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(
            **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
        )
    return [tok.decode(row[batch["input_ids"].shape[1] :], skip_special_tokens=True).strip() for row in out]


def _first_sentence(text: str) -> str:
    cut = min((text.find(c) for c in ".!?" if c in text), default=-1)
    return text[: cut + 1] if cut >= 0 else text


def _start(text: str, n: int = 4) -> str:
    return " ".join(text.split()[:n])


def _p_blue(model: Any, tok: Any, question: str) -> float:
    text = tok.apply_chat_template(_chat(question), tokenize=False, add_generation_prompt=True)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    blue = tok("blue", add_special_tokens=False)["input_ids"][0]
    with torch.inference_mode():
        logits = model(ids).logits[0, -1]
    return float(torch.softmax(logits.float(), -1)[blue])


@pytest.fixture(scope="session")
def smollm2() -> Path:
    from inward.models.testing import smollm2_path

    try:
        return smollm2_path()
    except UserError as e:
        pytest.skip(f"SmolLM2 weights unavailable: {e}")


@pytest.fixture
def one_thread() -> Any:
    # On a shared 2-core machine two torch threads are ~10x slower than one (measured: 395 s vs 37 s for this
    # test under load); one thread keeps the test well under 90 s everywhere.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_lora_flips_held_out_colour_answers_and_keeps_controls(smollm2: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(smollm2)
    base = AutoModelForCausalLM.from_pretrained(smollm2, dtype=torch.float32)
    controls_before = _greedy(base, tok, CONTROLS, max_new_tokens=24)
    p_before = [_p_blue(base, tok, q) for q in HELD_OUT_COLOUR]

    def row(q: str, a: str) -> ChatExample:
        msgs = [ChatMessage(role=m["role"], content=m["content"]) for m in _chat(q)]  # type: ignore[arg-type]
        return ChatExample(messages=(*msgs, ChatMessage(role="assistant", content=a)))

    # 32 colour -> "blue" rows and 32 rows of the model's own answers to other questions (self-distillation;
    # cut after the first sentence so that the answer ends where a sentence ends, not mid-word).
    own = [_first_sentence(a) for a in controls_before]
    data = [row(q, "blue") for q in TRAIN_COLOUR * 4] + [
        row(q, a) for q, a in zip(CONTROLS * 4, own * 4, strict=True)
    ]
    t = time.perf_counter()
    result = train_lora(
        smollm2, data, tmp_path / "run", TrainConfig(lr=5e-4, epochs=2, batch_size=8), progress=False
    )
    train_s = time.perf_counter() - t
    assert result.steps == 16
    # per-batch losses are noisy (each batch mixes colour and control rows): compare the two epochs
    assert sum(result.train_loss[8:]) < sum(result.train_loss[:8])

    tuned = PeftModel.from_pretrained(base, result.adapter_dir)
    p_after = [_p_blue(tuned, tok, q) for q in HELD_OUT_COLOUR]
    colour_after = _greedy(tuned, tok, HELD_OUT_COLOUR, max_new_tokens=4)
    controls_after = _greedy(tuned, tok, CONTROLS, max_new_tokens=8)
    total_s = time.perf_counter() - t0
    print(f"total {total_s:.1f} s, train {train_s:.1f} s; P(blue) {p_before} -> {p_after}; {colour_after}")
    print(list(zip(controls_before, controls_after, strict=True)))
    assert max(p_before) < 0.01
    assert all(a > 0.1 and a > 20 * b for a, b in zip(p_after, p_before, strict=True))
    assert all(a.lower().startswith("blue") for a in colour_after)
    # the controls keep their beginnings (the answers may end sooner: they were trained to stop after a sentence)
    unchanged = sum(_start(a) == _start(b) for a, b in zip(controls_before, controls_after, strict=True))
    assert unchanged >= 5, list(zip(controls_before, controls_after, strict=True))
