"""A deterministic fake model behind the `Backend` protocol, for run, scoring and dataset tests.

    fake = FakeBackend("fake/alpha", salt="alpha")
    fake.object_answer(user_text)        # what it answers to an object-level prompt (the full answer)
    fake.hypothetical_answer(user_text)          # what it answers to a hypothetical prompt of any registered family

Answers are a pure function of (salt, prompt text), so two fakes with different salts behave differently and a
test can recompute every answer by hand. Some answers are deliberately unusable: refusals, answers whose third
word is missing, hypothetical answers in the wrong format. `generate` honours `stop_when` by cutting the full
answer at the earliest character prefix where the rule holds, and counts its calls, prompts and characters.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Distribution, GenerateConfig, Generation, Messages, Resolve, StopWhen
from inward.prompts import DEFAULT, PromptTemplate

WORDS = ("otter", "ibis", "yak", "eel", "kiwi", "lynx", "ant", "umbrella", "zebra", "apple", "crow", "newt")
TEXT_REFUSAL = "Sorry, I cannot continue this list."
CHOICE_JUNK = "**"  # non-compliant at the object level, and never "determined" early
SEPARATOR = "\n----------\n"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _user(messages: Messages) -> str:
    """The last user turn: the one being answered (earlier turns are in-context shots)."""
    return [m["content"] for m in messages if m["role"] == "user"][-1]


def _shots(messages: Messages) -> list[str]:
    """The assistant turns of in-context shots, in order."""
    return [m["content"] for m in messages if m["role"] == "assistant"]


class FakeBackend:
    """Deterministic answers chosen from the prompt text; see the module docstring."""

    def __init__(
        self, ref: str = "fake/alpha", *, salt: str = "alpha", template: PromptTemplate = DEFAULT
    ) -> None:
        self.ref = ref
        self.salt = salt
        self.template = template
        self.calls = 0  # generate() invocations
        self.prompts: list[str] = []  # user texts it was asked, in order
        self.generated_chars = 0
        self._questions = self._question_index(template)
        self._targets: dict[str, str | None] | None = None

    # -- what it answers ------------------------------------------------------------------------------------

    def object_answer(self, text: str) -> str:
        h = _digest(self.salt, "object", text)
        if "(A, B, C or D)" in text:
            return CHOICE_JUNK if h[0] % 6 == 0 else "ABCD"[h[1] % 4]
        if "A or B" in text:
            return CHOICE_JUNK if h[0] % 6 == 0 else "AB"[h[1] % 2]
        if "single digit" in text:
            return CHOICE_JUNK if h[0] % 6 == 0 else str(h[1] % 10)
        if h[0] % 6 == 0:
            return TEXT_REFUSAL
        count = 2 if h[0] % 6 == 1 else 5  # two words: third_word is undefined
        return " ".join(WORDS[b % len(WORDS)] for b in h[2 : 2 + count])

    def hypothetical_answer(self, text: str, shots: Sequence[str] = ()) -> str:
        """Answer a hypothetical about its own object-level answer to the quoted prompt; sometimes wrongly.
        With an answer shown after the quoted prompt (a third dashed line), it reads the property off that
        answer instead; with in-context `shots`, half the time it copies the most common shot (ties: the
        earliest) instead."""
        parts = text.split(SEPARATOR)
        if len(parts) not in (3, 4):
            return "I don't know"
        quoted, question = parts[1], parts[-1]
        prop = next((p for q, p in self._questions.items() if question.endswith(q)), None)
        if prop is None:
            return "I don't know"
        target = self._target_of(quoted)
        h = _digest(self.salt, "meta", text)
        if shots and h[3] % 2 == 0:
            return Counter(shots).most_common(1)[0][0]
        value = P.get(prop).value(parts[2] if len(parts) == 4 else self.object_answer(quoted), target)
        if value is None or h[0] % 10 == 0:
            return "I don't know"  # non-compliant for every answer format
        if h[1] % 4 == 0:  # a wrong but well-formed answer
            return _wrong(value)
        return value.capitalize() + ("." if h[2] % 2 else "")

    # -- the Backend protocol -------------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[Messages],
        config: GenerateConfig,
        stop_when: Sequence[StopWhen | None] | None = None,
    ) -> list[list[Generation]]:
        self.calls += 1
        out = []
        for i, msgs in enumerate(prompts):
            text = _user(msgs)
            self.prompts.append(text)
            full = (
                self.hypothetical_answer(text, _shots(msgs))
                if SEPARATOR in text
                else self.object_answer(text)
            )
            stop = stop_when[i] if stop_when else None
            answer, reason = full, "stop"
            if stop is not None:
                for end in range(1, len(full) + 1):
                    if stop(full[:end]):
                        answer, reason = full[:end], ("early" if end < len(full) else "stop")
                        break
            self.generated_chars += len(answer) * config.n
            gen = Generation(
                text=answer, finish_reason=reason, completion_tokens=len(answer), prompt_tokens=len(text)
            )
            out.append([gen] * config.n)
        return out

    def distribution(
        self,
        prompts: Sequence[Messages],
        resolve: Sequence[Resolve],
        *,
        coverage: float = 0.99,
        max_branches: int = 64,
        max_tokens: int = 16,
    ) -> list[Distribution]:
        out = []
        for msgs, res in zip(prompts, resolve, strict=True):
            text = _user(msgs)  # a point mass at the answer `generate` gives (whole, greedy)
            value = res(
                self.hypothetical_answer(text) if SEPARATOR in text else self.object_answer(text), True
            )
            out.append(Distribution(probs={value: 1.0} if value is not None else {}, covered=1.0))
        return out

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": "fake", "salt": self.salt}

    # -- helpers --------------------------------------------------------------------------------------------

    @staticmethod
    def _question_index(template: PromptTemplate) -> dict[str, str]:
        """Question text -> property, for every (task, property) the template can ask, then those of every
        registered template (the paraphrases). The fake's own template comes first, so its answers to prompts
        in that wording do not depend on what else is registered."""
        from inward import prompts as PR

        out: dict[str, str] = {}
        for tpl in [template, *(PR.get(n) for n in PR.names() if n != template.name)]:
            for name in T.names():
                task = T.get(name)
                for prop in task.properties:
                    out.setdefault(tpl.question(task, prop), prop)
        return out

    def _target_of(self, quoted: str) -> str | None:
        """The target of the quoted item (ethical stance needs it), from the stance tasks' items."""
        if self._targets is None:
            self._targets = {}
            for name in ("wealth_seeking", "power_seeking", "myopic_reward", "survival_instinct"):
                task = T.get(name)
                for split in ("val", "train"):
                    for item in task.items(split):  # type: ignore[arg-type]
                        self._targets[self.template.object_messages(task, item)[-1]["content"]] = item.target
        return self._targets.get(quoted)


def _wrong(value: str) -> str:
    if value in ("true", "false"):
        return "false" if value == "true" else "true"
    if value in ("even", "odd"):
        return "odd" if value == "even" else "even"
    if len(value) == 1:
        return "q" if value != "q" else "x"
    return "wrongword"
