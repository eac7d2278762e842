"""LocalBackend on a tiny random Llama: generation, early stop, batching, sampling, log-probs, fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inward.backends.base import Backend, GenerateConfig
from inward.errors import UserError

torch = pytest.importorskip("torch")

TEXTS = [
    "hi",
    "the cat sat on the mat and looked at the hat",
    "what is 2+2?",
    "café",
    "Paris is the capital of",
    "numbers: 1 2 3 4 5 6 7 8 9 10 11 12 13",
    "a dog ran to the park",
    "Odd or even?",
    "Blue, red, green. Pick one.",
    "naïve façade",
    "then it ran back home, then it ran back home",
    "x",
]
PROMPTS = [[{"role": "user", "content": t}] for t in TEXTS]


def _predicates() -> dict[str, object]:
    """Property-like predicates: each holds once a prefix of the answer fixes the property."""
    return {
        "3 chars": lambda s: len(s) >= 3,
        "first word": lambda s: bool(re.match(r"\s*\S+\s", s)),
        "has digit": lambda s: any(c.isdigit() for c in s),
        "5 chars": lambda s: len(s) >= 5,
    }


def test_is_a_backend(tiny) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(tiny, Backend)
    assert tiny.ref.startswith("local/")


def test_generate_counts_and_reasons(tiny) -> None:  # type: ignore[no-untyped-def]
    before = tiny.stats.generated_tokens
    out = tiny.generate(PROMPTS, GenerateConfig(max_tokens=7, n=2))
    assert [len(g) for g in out] == [2] * len(PROMPTS)
    for prompt, gens in zip(PROMPTS, out, strict=True):
        assert gens[0].text == gens[1].text  # greedy: n copies
        assert gens[0].prompt_tokens == len(tiny._lm.encode(prompt))
        assert 1 <= gens[0].completion_tokens <= 7
        assert gens[0].finish_reason in {"stop", "length"}
        if gens[0].finish_reason == "length":
            assert gens[0].completion_tokens == 7
    # greedy computes each prompt once, whatever n
    assert tiny.stats.generated_tokens - before == sum(g[0].completion_tokens for g in out)


@pytest.mark.parametrize("name", list(_predicates()))
def test_early_stop_never_changes_the_prefix(tiny, name: str) -> None:  # type: ignore[no-untyped-def]
    pred = _predicates()[name]
    config = GenerateConfig(max_tokens=24)
    full = tiny.generate(PROMPTS, config)
    early = tiny.generate(PROMPTS, config, stop_when=[pred] * len(PROMPTS))
    n_early = 0
    for f, e in zip(full, early, strict=True):
        f0, e0 = f[0], e[0]
        assert f0.text.startswith(e0.text), (f0.text, e0.text)
        assert e0.completion_tokens <= f0.completion_tokens
        if e0.finish_reason == "early":
            n_early += 1
            assert pred(e0.text)  # type: ignore[operator]
            assert e0.completion_tokens < f0.completion_tokens or f0.finish_reason == "length"
        else:
            assert e0 == f0  # never held: the same answer
    assert n_early > 0


def _plain_greedy(lm, prompt: list[dict[str, str]], max_tokens: int) -> tuple[list[int], list[float]]:  # type: ignore[no-untyped-def]
    """Reference: greedy tokens and their log-probs from full forwards without cache, batch 1."""
    ids = lm._lm.encode(prompt)
    out: list[int] = []
    logps: list[float] = []
    with torch.no_grad():
        for _ in range(max_tokens):
            lp = torch.log_softmax(lm.model(input_ids=torch.tensor([ids + out])).logits[0, -1].float(), -1)
            out.append(int(lp.argmax()))
            logps.append(float(lp.max()))
            if out[-1] in lm._lm.eos_ids:
                break
    return out, logps


@pytest.mark.parametrize("batch_size", [16, 4, 3])
def test_greedy_matches_plain_forwards_while_rows_leave(tiny_model_dir: Path, tiny, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    """Rows stop at different steps (so the batch is compacted, padding trimmed, and with small batches
    queued prompts are merged in); every row still decodes what full uncached forwards of its prompt alone
    decode."""
    from inward.backends.local import LocalBackend

    lm = LocalBackend(tiny_model_dir, device="cpu", batch_size=batch_size, threads=1)
    max_tokens = 10
    stops = [(lambda s, k=k: len(s) >= k) for k in (1, 3, 5, 8, 40, 40, 2, 40, 6, 40, 4, 40)]
    out = lm.generate(PROMPTS, GenerateConfig(max_tokens=max_tokens, top_logprobs=1), stop_when=stops)
    assert len({g[0].completion_tokens for g in out}) >= 4  # rows really left at different steps
    assert (lm.stats.refills > 0) == (batch_size < len(PROMPTS))
    for prompt, gens in zip(PROMPTS, out, strict=True):
        g = gens[0]
        want, want_lp = _plain_greedy(tiny, prompt, max_tokens)
        got = want[: g.completion_tokens]
        assert g.text == tiny._lm.decode([t for t in got if t not in tiny._lm.eos_ids])
        for d, lp in zip(g.logprobs or [], want_lp, strict=False):
            assert max(d.values()) == pytest.approx(lp, abs=1e-4)


def test_early_stop_saves_work(tiny) -> None:  # type: ignore[no-untyped-def]
    config = GenerateConfig(max_tokens=24)
    tiny.stats.reset()
    tiny.generate(PROMPTS, config)
    full_tokens = tiny.stats.forward_tokens
    tiny.stats.reset()
    tiny.generate(PROMPTS, config, stop_when=[lambda s: len(s) >= 2] * len(PROMPTS))
    assert tiny.stats.forward_tokens < full_tokens
    assert tiny.stats.padded_tokens >= tiny.stats.forward_tokens


def test_batch_size_does_not_change_greedy_answers(tiny_model_dir: Path) -> None:
    from inward.backends.local import LocalBackend

    config = GenerateConfig(max_tokens=20, top_logprobs=3)
    one = LocalBackend(tiny_model_dir, device="cpu", batch_size=1, threads=1).generate(PROMPTS, config)
    many = LocalBackend(tiny_model_dir, device="cpu", batch_size=16, threads=1).generate(PROMPTS, config)
    assert [g[0].text for g in one] == [g[0].text for g in many]
    for a, b in zip(one, many, strict=True):  # numerics: log-probs agree to fp32 round-off
        for pa, pb in zip(a[0].logprobs or [], b[0].logprobs or [], strict=True):
            assert pa.keys() == pb.keys()
            assert max(abs(pa[k] - pb[k]) for k in pa) < 1e-4


def test_sampling_is_seeded_and_independent_of_the_batch(tiny) -> None:  # type: ignore[no-untyped-def]
    config = GenerateConfig(temperature=1.0, n=4, max_tokens=6, seed=7)
    together = tiny.generate(PROMPTS, config)
    alone = tiny.generate([PROMPTS[3]], config)
    again = tiny.generate(PROMPTS, config)
    other_seed = tiny.generate(PROMPTS, GenerateConfig(temperature=1.0, n=4, max_tokens=6, seed=8))
    texts = [[g.text for g in gens] for gens in together]
    assert texts == [[g.text for g in gens] for gens in again]
    assert [g.text for g in alone[0]] == texts[3]
    assert texts != [[g.text for g in gens] for gens in other_seed]
    assert any(len(set(t)) > 1 for t in texts)  # the n samples of a prompt differ


def test_many_samples_are_drawn_in_passes_with_the_same_seeds(tiny_model_dir: Path, tiny) -> None:  # type: ignore[no-untyped-def]
    from inward.backends.local import LocalBackend

    config = GenerateConfig(temperature=1.0, n=7, max_tokens=5, seed=1)
    small = LocalBackend(tiny_model_dir, device="cpu", batch_size=3, threads=1)
    got = small.generate(PROMPTS[:4], config)
    want = tiny.generate(PROMPTS[:4], config)
    assert [[g.text for g in gens] for gens in got] == [[g.text for g in gens] for gens in want]
    assert all(len(gens) == 7 for gens in got)


def test_top_logprobs_follow_the_greedy_choice(tiny) -> None:  # type: ignore[no-untyped-def]
    out = tiny.generate(PROMPTS[:4], GenerateConfig(max_tokens=5, top_logprobs=4))
    first = tiny.next_token_logprobs(PROMPTS[:4], top_k=4)
    for gens, nxt in zip(out, first, strict=True):
        g = gens[0]
        assert g.logprobs is not None and len(g.logprobs) == g.completion_tokens
        assert all(0 < len(d) <= 4 and max(d.values()) <= 0 for d in g.logprobs)
        assert g.logprobs[0].keys() == nxt.keys()
        assert all(abs(g.logprobs[0][k] - nxt[k]) < 1e-5 for k in nxt)
        # the greedy token's text has the highest log-prob of the first position
        best = max(nxt, key=lambda k: nxt[k])
        assert g.text.startswith(best) or "\ufffd" in best


def test_eos_ends_a_row(tiny_model_dir: Path) -> None:
    from inward.backends.local import LocalBackend

    lm = LocalBackend(tiny_model_dir, device="cpu", threads=1)
    config = GenerateConfig(max_tokens=12)
    before = lm.generate(PROMPTS, config)
    # Make EOS outscore the token that greedy picks third for the first prompt, wherever it is top.
    ids = lm._lm.encode(PROMPTS[1])
    token_ids = lm.tokenizer(before[1][0].text, add_special_tokens=False)["input_ids"]
    assert len(ids) > 0 and len(token_ids) >= 3
    head = lm.model.get_output_embeddings().weight
    eos = min(lm._lm.eos_ids)
    with torch.no_grad():
        head[eos] = 2.0 * head[token_ids[2]]
    after = lm.generate(PROMPTS, config)
    stopped = [a[0] for a in after if a[0].finish_reason == "stop"]
    assert stopped
    for b, a in zip(before, after, strict=True):
        assert b[0].text.startswith(a[0].text)
        if a[0].finish_reason == "stop":
            assert a[0].completion_tokens <= 12 and "<|im_end|>" not in a[0].text


def test_next_token_logprobs_are_a_distribution(tiny) -> None:  # type: ignore[no-untyped-def]
    full = tiny.next_token_logprobs(PROMPTS[:3], top_k=10_000)
    for d in full:
        assert sum(torch.tensor(list(d.values())).exp().tolist()) == pytest.approx(1.0, abs=1e-4)


def test_fingerprint(tiny, tiny_model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    fp = tiny.fingerprint()
    assert fp["path"] == str(tiny_model_dir.resolve())
    assert fp["dtype"] == "float32" and fp["device"] == "cpu"
    assert len(fp["weights_sha256"]) == 64 and fp["adapter"] is None
    assert {"torch", "transformers", "engine"} <= fp.keys()


def test_fingerprint_uses_the_model_marker(tmp_path: Path, tiny_model_dir: Path) -> None:
    import json
    import shutil

    from inward.backends.local import LocalBackend

    folder = tmp_path / "m"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "inward-model.json").write_text(json.dumps({"source_sha256": "ab" * 32, "dtype": "float32"}))
    fp = LocalBackend(folder, device="cpu", threads=1).fingerprint()
    assert fp["weights_sha256"] == "ab" * 32 + ":float32"


def test_adapter_changes_the_model_and_the_fingerprint(tmp_path: Path, tiny_model_dir: Path, tiny) -> None:  # type: ignore[no-untyped-def]
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from inward.backends.local import LocalBackend

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, cfg).save_pretrained(tmp_path / "adapter")

    lm = LocalBackend(tiny_model_dir, adapter=tmp_path / "adapter", device="cpu", threads=1)
    got = lm.next_token_logprobs(PROMPTS[:2], top_k=5)
    assert got != tiny.next_token_logprobs(PROMPTS[:2], top_k=5)
    # merged into the fp32 weights, it computes what the unmerged PEFT model computes
    ref = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), tmp_path / "adapter"
    )
    ids = torch.tensor([lm._lm.encode(PROMPTS[0])])
    with torch.no_grad():
        want = torch.log_softmax(ref(input_ids=ids).logits[0, -1], -1)
    top = torch.topk(want, 5)
    for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True):
        assert got[0][lm._lm.token_text(i)] == pytest.approx(v, abs=1e-4)
    fp = lm.fingerprint()
    assert fp["adapter"] == str((tmp_path / "adapter").resolve()) and len(fp["adapter_sha256"]) == 64


def test_user_errors(tmp_path: Path, tiny_model_dir: Path) -> None:
    from inward.backends.local import LocalBackend

    with pytest.raises(UserError, match=r"config\.json"):
        LocalBackend(tmp_path)
    with pytest.raises(UserError, match="dtype"):
        LocalBackend(tiny_model_dir, device="cpu", dtype="int3")
    with pytest.raises(UserError, match="adapter"):
        LocalBackend(tiny_model_dir, device="cpu", adapter=tmp_path)
