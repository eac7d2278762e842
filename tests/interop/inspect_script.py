"""A scripted inspect `mockllm` model: answers chosen per prompt by the test, so every score is known by hand.

    script = Script(objects={item.text: "Cat dog"}, hypotheticals={(item.text, "first_word"): "cat"})
    model = script.model("mockllm/a")        # an inspect Model; script.calls records (kind, user text)

An object-level prompt is recognised by the item text it wraps, a hypothetical one by inward's wrapper
("Do not answer that message now.") plus the property's question. Usage is set on every output, so mockllm
never counts tokens with tiktoken (whose vocabulary would be downloaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import ModelOutput, ModelUsage, get_model

from inward import properties as P

WRAPPER_MARK = "Do not answer that message now."
DEFAULT_ANSWER = "unscripted"


@dataclass
class Script:
    objects: dict[str, str] = field(default_factory=dict)  # item text → object-level answer
    hypotheticals: dict[tuple[str, str], str] = field(default_factory=dict)  # (item text, property) → answer
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, item text, number of messages)

    def answer(self, messages: list[Any]) -> tuple[str, str, str]:
        user = [m.text for m in messages if m.role == "user"][-1]
        if WRAPPER_MARK in user:
            for (text, prop), ans in self.hypotheticals.items():
                if text in user and P.get(prop).question in user:
                    return "hypothetical", text, ans
            return "hypothetical", "", DEFAULT_ANSWER
        for text, ans in self.objects.items():
            if text in user:
                return "object", text, ans
        return "object", "", DEFAULT_ANSWER

    def __call__(self, input: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        kind, text, ans = self.answer(input)
        self.calls.append((kind, text, len(input)))
        out = ModelOutput.from_content(model="mockllm", content=ans)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    def model(self, name: str = "mockllm/model") -> Any:
        return get_model(name, custom_outputs=self, memoize=False)
