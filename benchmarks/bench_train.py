"""Training speed: inward's LoRA trainer (answer-only loss, LM head only on answers) vs TRL's SFTTrainer.

    PYTHONPATH=src python benchmarks/bench_train.py            # 64 examples, SmolLM2-135M, batch 8, 1 epoch
    PYTHONPATH=src python benchmarks/bench_train.py --n 128 --trl default --threads 1

Both trainers get the same chat JSONL (real hypothetical prompts from the offline training tasks, with short
property answers), the same base model, LoRA settings (r=8, alpha=16, q/k/v/o), batch size, learning rate,
schedule, epochs and seed. TRL runs with its defaults otherwise, on prompt-completion rows so that its loss is
on the answer only; it is measured with its default gradient checkpointing (on) and with it off. The figure
is training examples per second of the training loop (model loading and tokenisation excluded for both).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from inward import prompts, tasks
from inward.training.chat_data import ChatExample, ChatMessage, write_chat_jsonl
from inward.training.config import TrainConfig
from inward.training.encode import encode_example


def _answer(prop: str, text: str, rng: random.Random) -> str:
    """A plausible property value: speed does not depend on whether it is the model's real behaviour."""
    words = [w.strip(".,;:!?\"'").lower() for w in text.split()] or ["x"]
    word = rng.choice(words) or "x"
    if prop.endswith("_character"):
        return word[0]
    if prop == "first_and_second_character":
        return word[:2]
    if prop.endswith("_word"):
        return word
    if prop == "starts_with_vowel" or prop == "is_even":
        return rng.choice(["true", "false"])
    if prop == "ethical_stance":
        return rng.choice(["wealth-seeking", "not wealth-seeking"])
    return rng.choice(["A", "B", "C", "D"])


def hypothetical_examples(n: int, seed: int = 0) -> list[ChatExample]:
    rng = random.Random(seed)
    template = prompts.get(prompts.DEFAULT) if isinstance(prompts.DEFAULT, str) else prompts.DEFAULT
    combos = [(t, p) for t in (tasks.get(name) for name in tasks.names("train")) for p in t.properties]
    out = []
    for i in range(n):
        task, prop = combos[i % len(combos)]
        item = rng.choice(list(task.items("train")))
        msgs = template.hypothetical_messages(task, item, prop)
        answer = _answer(prop, item.text, rng)
        out.append(
            ChatExample(
                messages=(
                    *(ChatMessage(role=m["role"], content=m["content"]) for m in msgs),  # type: ignore[arg-type]
                    ChatMessage(role="assistant", content=answer),
                )
            )
        )
    return out


def _show(name: str, row: dict[str, float | int | str]) -> None:
    print(
        f"done: {name}: "
        + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
    )
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64, help="training examples")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--trl", choices=["both", "default", "no-gc", "none"], default="both")
    ap.add_argument("--threads", type=int, help="torch CPU threads (1 is steadier on a busy machine)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    import torch
    import transformers

    from inward.models.testing import smollm2_path
    from inward.training.lora import train_lora
    from inward.training.trl_sft import train_with_trl

    if args.threads:
        torch.set_num_threads(args.threads)
    base = smollm2_path()
    tok = transformers.AutoTokenizer.from_pretrained(base)
    examples = hypothetical_examples(args.n)
    tok_lengths = [len(encode_example(tok, e, max_len=10_000).input_ids) for e in examples]
    cfg = TrainConfig(lr=args.lr, batch_size=args.batch, epochs=args.epochs, max_len=512)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"transformers {transformers.__version__}"
    )
    print(
        f"{args.n} examples, tokens per example: mean {statistics.mean(tok_lengths):.0f}, "
        f"max {max(tok_lengths)}; batch {args.batch}, "
        f"epochs {args.epochs}"
    )
    rows: dict[str, dict[str, float | int | str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = write_chat_jsonl(examples, Path(tmp) / "train.jsonl")
        t = time.perf_counter()
        ours = train_lora(base, data, Path(tmp) / "ours", cfg, progress=False)
        rows["inward train_lora"] = {
            "examples_per_s": ours.examples_per_s,
            "train_time_s": ours.train_time_s,
            "total_s": time.perf_counter() - t,
            "first_loss": ours.train_loss[0],
            "last_loss": ours.train_loss[-1],
        }
        _show("inward train_lora", rows["inward train_lora"])
        choices: dict[str, list[bool | None]] = {"both": [None, False], "default": [None], "no-gc": [False]}
        variants = choices.get(args.trl, [])
        for gc in variants:
            t = time.perf_counter()
            run = train_with_trl(base, data, Path(tmp) / f"trl-{gc}", cfg, gradient_checkpointing=gc)
            label = f"TRL {run.trl_version} SFTTrainer (gradient_checkpointing={run.gradient_checkpointing})"
            rows[label] = {
                "examples_per_s": run.examples_per_s,
                "train_time_s": run.train_time_s,
                "total_s": time.perf_counter() - t,
                "first_loss": run.train_loss[0] if run.train_loss else "",
                "last_loss": run.train_loss[-1] if run.train_loss else "",
            }
            _show(label, rows[label])
    ref = rows["inward train_lora"]["examples_per_s"]
    print(f"\n{'trainer':<58} {'ex/s':>7} {'loop s':>7} {'total s':>8} {'ours/this':>9}")
    for name, r in rows.items():
        ratio = float(ref) / float(r["examples_per_s"])
        print(
            f"{name:<58} {float(r['examples_per_s']):7.2f} {float(r['train_time_s']):7.1f} "
            f"{float(r['total_s']):8.1f} {ratio:9.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
