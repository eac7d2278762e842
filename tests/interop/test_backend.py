"""The `inspect/<provider>/<model>` backend: inspect's mock model driven through inward's runs, store and cache.

Scripted (animals_long, first 2 items): object "Cat dog" and "owl bat"; hypothetical first_word "cat" (right)
and "owl" (right), starts_with_vowel "true" (wrong: cat → false) and "true" (right: owl). By hand: first_word
2/2, starts_with_vowel 1/2, average 3/4.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    Logprob,
    Logprobs,
    ModelOutput,
    ModelUsage,
    TopLogprob,
)
from inspect_script import Script

from inward import tasks as T
from inward.backends import make_backend
from inward.backends.base import GenerateConfig
from inward.backends.identity import model_id
from inward.backends.registry import identify
from inward.errors import UserError
from inward.refs import ModelRef
from inward.runs import run_hypotheticals, run_object, score
from inward.store import Store

REF = "inspect/mockllm/model"


def _script() -> Script:
    a, b = (it.text for it in T.get("animals_long").items("val")[:2])
    return Script(
        objects={a: "Cat dog", b: "owl bat"},
        hypotheticals={
            (a, "first_word"): "cat",
            (b, "first_word"): "owl",
            (a, "starts_with_vowel"): "true",
            (b, "starts_with_vowel"): "true",
        },
    )


def test_object_hypothetical_score_through_store_and_cache(tmp_path: Path) -> None:
    script = _script()
    backend = make_backend(REF, model_args={"custom_outputs": script})
    with Store.open(tmp_path / "ws") as store:
        res = run_object(store, backend, tasks=["animals_long"], limit=2, progress=False)
        assert (res.new_rows, res.config) == (2, "greedy")
        run_hypotheticals(
            store,
            backend,
            tasks=["animals_long"],
            properties=["first_word", "starts_with_vowel"],
            progress=False,
        )
        result = score(store, object_model=REF, hypothetical_model=REF, tasks=["animals_long"])
        acc = result.table.set_index("group")["acc"].to_dict()
        assert acc == {"first_word": 1.0, "starts_with_vowel": 0.5, "average": 0.75}
        rows = store.object_rows(model_id=identify(REF).key)
        assert sorted(rows["raw"]) == ["Cat dog", "owl bat"]
        calls = len(script.calls)
        # a second backend with the same settings is answered from the store's call cache
        again = make_backend(REF, model_args={"custom_outputs": script})
        run_object(store, again, tasks=["animals_long"], limit=2, early_stop=False, progress=False)
        assert len(script.calls) == calls


def test_identity_is_provider_and_model_and_fingerprint_has_settings() -> None:
    backend = make_backend(REF, model_args={"custom_outputs": _script(), "temperature_hint": 3})
    assert model_id(backend).key == identify(REF).key
    fp = backend.fingerprint()
    assert fp["model"] == "mockllm/model" and fp["inspect_provider"] == "mockllm"
    assert fp["model_args"] == {"custom_outputs": "<Script>", "temperature_hint": 3}
    assert "api_key" not in str(fp)


def test_credentials_in_model_args_are_refused() -> None:
    with pytest.raises(UserError, match="look like credentials"):
        make_backend(REF, model_args={"api_key": "sk-secret"})


@pytest.mark.parametrize("ref", ["inspect/mockllm", "inspect//model", "inspect/mockllm/model+adapter=x"])
def test_bad_refs_are_one_line(ref: str) -> None:
    with pytest.raises(UserError, match="inspect/PROVIDER/MODEL"):
        ModelRef.parse(ref)


def test_unknown_inspect_provider_is_one_line() -> None:
    backend = make_backend("inspect/no-such-provider/x")
    with pytest.raises(UserError) as e:
        backend.generate([[{"role": "user", "content": "hi"}]], GenerateConfig())
    assert "no-such-provider" in str(e.value) and "\n" not in str(e.value)


def test_default_mock_answers_offline() -> None:
    out = make_backend(REF).generate([[{"role": "user", "content": "hi"}]], GenerateConfig(n=2))
    assert [g.text for g in out[0]] == ["Default output from mockllm/model"] * 2


def test_distribution_without_logprobs_is_unsupported() -> None:
    backend = make_backend(REF, model_args={"custom_outputs": _script()})
    with pytest.raises(UserError, match="no log-probs"):
        backend.distribution([[{"role": "user", "content": "hi"}]], [lambda text, finished: text or None])


def test_distribution_from_inspect_logprobs() -> None:
    # greedy answer "A" (p=0.7) with alternative "C" (p=0.2): the value of each one-token answer
    def output(*_: object) -> ModelOutput:
        top = [TopLogprob(token="A", logprob=math.log(0.7)), TopLogprob(token="C", logprob=math.log(0.2))]
        lp = Logprobs(content=[Logprob(token="A", logprob=math.log(0.7), top_logprobs=top)])
        choice = ChatCompletionChoice(
            message=ChatMessageAssistant(content="A"), stop_reason="stop", logprobs=lp
        )
        return ModelOutput(
            model="mockllm", choices=[choice], usage=ModelUsage(input_tokens=1, output_tokens=1)
        )

    backend = make_backend(REF, model_args={"custom_outputs": output})
    [d] = backend.distribution(
        [[{"role": "user", "content": "pick"}]], [lambda text, finished: text[:1] or None]
    )
    assert d.method == "logprobs"
    assert d.probs == pytest.approx({"A": 0.7, "C": 0.2})
    assert d.covered == pytest.approx(0.9)


def test_package_imports_inspect_only_on_use() -> None:
    import subprocess
    import sys

    code = "import sys, inward.interop as I; a = 'inspect_ai' in sys.modules; I.export_log; print(a, 'inspect_ai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
