"""Bad input gets one clear line, never a traceback (issue 13, item 9): a table of bad inputs, every command.

Each case runs `inward.cli.main(argv)` in-process, as the console script does, and must:

- exit non-zero: 2 for a `UserError` and for click's usage errors; 1 for `inward data check` finding bad rows
  (a failed check, like a linter's);
- say what is wrong in one line. How stderr is counted:
  * a UserError ("user"): stderr is exactly one non-empty line, `error: <message>`;
  * a click usage error ("usage": bad option value, missing file, unknown command): click prints its usage block
    first, so stderr must be `Usage: ...`, `Try '... -h' for help.`, then exactly one `Error: <message>` line,
    which is the last; nothing else;
  * `data check` ("check"): the per-row report goes to stdout and stderr is exactly one `error: ...` line;
- print no "Traceback" anywhere, and name the problem (the case's words appear in the error line);
- leave the store intact: every case runs against a workspace whose store holds rows, and a sha256 of its
  `iterdump()` (and `user_version`) is the same afterwards;
- never install or load a model: installing a bundled model, importing the local backend and starting a LoRA
  run are tripwires here, so a command that validates only after building its backend fails its case.

A few cases run `python -m inward` in a subprocess to cover the real entry point.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from inward.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"
BASE = "local/smollm2-135m"
GOOD_CHAT: dict[str, Any] = {
    "messages": [{"role": "user", "content": "Name an animal."}, {"role": "assistant", "content": "owl"}]
}
# An "inward" key as `inward dataset build` writes it (needed by `dataset build cross --like`).
GOOD_SET_ROW: dict[str, Any] = {
    **GOOD_CHAT,
    "inward": {"task": "animals_long", "item_id": "x1", "property": "first_word", "kind": "self"},
}


class Tripwire(AssertionError):
    """A case got as far as installing or loading a model: it validated too late."""


# -- the sandbox ----------------------------------------------------------------------------------------------


def _safetensors(data_len: int, declared: int = 16) -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [declared // 4], "data_offsets": [0, declared]}})
    raw = header.encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * data_len


def make_adapter(folder: Path, *, config: bool = True, weights: str | None = "ok") -> Path:
    """A PEFT-like adapter folder: `weights` is "ok", "empty", "truncated" or None (no weights file)."""
    folder.mkdir(parents=True, exist_ok=True)
    if config:
        (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8}))
    if weights is not None:
        body = {"ok": _safetensors(16), "empty": b"", "truncated": _safetensors(8)}[weights]
        (folder / "adapter_model.safetensors").write_bytes(body)
    return folder


def store_digest(db: Path) -> str:
    """The store's content: every row and the schema (iterdump) plus the schema version."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for line in con.iterdump():
            h.update(line.encode())
        h.update(f"user_version={con.execute('PRAGMA user_version').fetchone()[0]}".encode())
        return h.hexdigest()
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose store holds rows: a cached call and registered adapters, three of them half-written."""
    from inward.store import CallRow, ModelRecord, Store

    root = tmp_path_factory.mktemp("template")
    ws = root / "workspace"
    adapters = {
        "complete": make_adapter(root / "adapters" / "complete"),
        "no-config": make_adapter(root / "adapters" / "no-config", config=False),
        "cut-weights": make_adapter(root / "adapters" / "cut-weights", weights="truncated"),
        "empty-weights": make_adapter(root / "adapters" / "empty-weights", weights="empty"),
        "gone": root / "adapters" / "gone",
    }
    store = Store.open(ws)
    try:
        store.put_calls([CallRow(key="k1", model="openai/x", request={"q": 1}, response={"a": 2})])
        for name, path in adapters.items():
            store.register_model(ModelRecord(name=name, base_ref=BASE, kind="lora", path=str(path)))
    finally:
        store.close()
    con = sqlite3.connect(ws / "inward.db")
    try:  # the check below is only worth something if there is something to change
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM models").fetchone()[0] == len(adapters)
    finally:
        con.close()
    return ws


@dataclass
class Box:
    """One case's files: `ws` is a copy of the template workspace; `root` holds the case's input files."""

    root: Path
    ws: Path

    @property
    def db(self) -> Path:
        return self.ws / "inward.db"

    def write(self, name: str, content: str | bytes) -> str:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return str(p)

    def jsonl(self, name: str, *rows: dict[str, Any] | str) -> str:
        lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
        return self.write(name, "".join(line + "\n" for line in lines))

    def folder(self, name: str, files: dict[str, str | bytes] | None = None) -> str:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        for fname, content in (files or {}).items():
            self.write(f"{name}/{fname}", content)
        return str(d)

    def with_manifest(self, dataset: str, manifest: str) -> str:
        Path(dataset + ".manifest.json").write_text(manifest, encoding="utf-8")
        return dataset

    def good_chat(self) -> str:
        return self.jsonl("good.jsonl", GOOD_CHAT)

    def a_file(self) -> str:
        return self.write("a-file", "not a folder\n")

    def set_db_version(self, version: int) -> str:
        con = sqlite3.connect(self.db)
        try:
            con.execute(f"PRAGMA user_version = {version:d}")
        finally:
            con.close()
        return str(self.ws)


@pytest.fixture
def box(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    import shutil

    ws = tmp_path / "workspace"
    ws.mkdir()
    for f in template.iterdir():
        if f.name.startswith("inward.db"):
            shutil.copy2(f, ws / f.name)
    monkeypatch.setenv("INWARD_WORKSPACE", str(ws))
    return Box(root=tmp_path / "inputs", ws=ws)


@pytest.fixture(autouse=True)
def _tripwires(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Installing a bundled model, importing the local backend or starting LoRA training fails the case."""
    from inward import models
    from inward.models import _install, _registry
    from inward.tasks import registry as task_registry

    def install(name: str, **_: Any) -> Path:
        _registry.get(name)  # what the real install does first: unknown names are a UserError
        raise Tripwire(f"installed the bundled model {name}")

    def refuse(*_: Any, **__: Any) -> Any:
        raise Tripwire("loaded a model or started training")

    monkeypatch.setattr(_install, "install", install)
    monkeypatch.setattr(models, "install", install)
    local = types.ModuleType("inward.backends.local")
    local.LocalBackend = refuse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "inward.backends.local", local)
    lora = types.ModuleType("inward.training.lora")
    lora.train_lora = refuse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "inward.training.lora", lora)
    # `--paper-data` registers paper:<task> tasks process-wide; keep them out of other tests.
    monkeypatch.setattr(task_registry, "_REGISTRY", dict(task_registry._REGISTRY))
    monkeypatch.delenv("INWARD_PAPER_DATA", raising=False)
    # The bundled models' packages may be installed in this environment, so an empty cache alone would not stop
    # an install: a cache folder under a regular file makes any use of the cache fail at once.
    (tmp_path / "no-cache").write_text("")
    monkeypatch.setenv("INWARD_CACHE_DIR", str(tmp_path / "no-cache" / "cache"))
    monkeypatch.setenv("INWARD_NO_PIP", "1")
    yield


def run_main(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def error_line(kind: str, err: str) -> str:
    """The one line that says what is wrong, after checking stderr has that shape (see the module doc)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    if kind in ("user", "check"):
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
        assert lines[0].startswith("error: "), err
        return lines[0]
    assert lines[0].startswith("Usage: "), err
    assert lines[-1].startswith("Error: "), err
    assert sum(line.startswith("Error: ") for line in lines) == 1, err
    assert all(line.startswith(("Usage: ", "Try ", "Error: ")) for line in lines), err
    return lines[-1]


# -- the cases ------------------------------------------------------------------------------------------------

Kind = Literal["user", "usage", "check"]
Argv = Callable[[Box], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    argv: Argv
    says: str  # words the error line must contain (case-insensitive)
    kind: Kind = "user"
    env: Callable[[Box], dict[str, str]] = field(default=lambda b: {})


def yaml_case(id: str, text: str | bytes, says: str) -> Case:
    return Case(f"run/{id}", lambda b: ["run", b.write("exp.yaml", text)], says)


def stats_case(id: str, says: str, *rows: dict[str, Any] | str) -> Case:
    return Case(f"dataset-stats/{id}", lambda b: ["dataset", "stats", b.jsonl("set.jsonl", *rows)], says)


def train_case(id: str, says: str, *rows: dict[str, Any] | str) -> Case:
    return Case(
        f"train/{id}",
        lambda b: ["train", "-m", BASE, "--data", b.jsonl("train.jsonl", *rows), "--out", "m1"],
        says,
    )


def object_case(id: str, model: str, says: str, *extra: str, kind: Kind = "user") -> Case:
    return Case(f"object/{id}", lambda b: ["object", "-m", model, "-t", "animals_long", *extra], says, kind)


def release_row(**fields: Any) -> dict[str, Any]:
    """A row of the paper's release format, with `fields` replaced."""
    row = {
        "original_question": "cat",
        "original_dataset": "animals",
        "object_level_prompt": [{"role": "user", "content": "Continue: cat"}],
        "hypothetical_prompt": [
            {"role": "user", "content": "Had you been asked 'Continue: cat', what word?"}
        ],
        "behavioral_property": "first_word",
    }
    return {**row, **fields}


NO_ASSISTANT = {"messages": [{"role": "user", "content": "hi"}]}
PAPER_ROW = json.dumps({"string": "cat dog owl"})

CASES: list[Case] = [
    # experiment YAML (`inward run FILE`)
    yaml_case("not-utf8", b"name: demo\nseed: \xff\xfe\n", "line 2: not UTF-8 text"),
    yaml_case("not-yaml", "name: demo\nmodels: {m1: [\n", "not valid YAML"),
    yaml_case("tab-indent", "name: demo\nsizes:\n\tper_combo: 3\n", "not valid YAML"),
    yaml_case("a-list", "- self_training\n- calibration\n", "must be a mapping"),
    yaml_case("a-scalar", "hello\n", "must be a mapping"),
    yaml_case("unknown-key", "nmae: demo\n", "nmae"),
    yaml_case("unknown-nested-key", "sizes: {per_combos: 3}\n", "sizes.per_combos"),
    yaml_case("bad-type-seed", "seed: soon\n", "seed"),
    yaml_case("bad-type-size", "sizes: {per_combo: many}\n", "sizes.per_combo"),
    yaml_case("bad-type-list", "train_tasks: animals_long\n", "train_tasks"),
    yaml_case("unknown-task", "eval_tasks: [animals_long, nosuch]\n", "unknown task 'nosuch'"),
    yaml_case("unknown-property", "properties: [fifth_character]\n", "unknown property 'fifth_character'"),
    yaml_case("bad-model-ref", "models: {m1: nosuch}\n", "bad model ref 'nosuch'"),
    yaml_case("bad-api-url", "models: {m2: 'openai-compatible/x@notaurl'}\n", "openai-compatible/MODEL@http"),
    yaml_case("negative-size", "sizes: {shift_rows: -5}\n", "sizes.shift_rows"),
    yaml_case("zero-size", "sizes: {eval_items_per_task: 0}\n", "sizes.eval_items_per_task"),
    yaml_case("fraction-too-big", "sizes: {shift_self_distill: 1.5}\n", "sizes.shift_self_distill"),
    yaml_case("negative-lr", "training: {m1: {lr: -1}}\n", "training.m1.lr"),
    yaml_case("unknown-experiment", "experiments: [self_training, telepathy]\n", "experiments"),
    yaml_case("bad-run-name", "name: 'my run/1'\n", "name"),
    yaml_case("bad-calibration-method", "calibration_method: guess\n", "calibration_method"),
    Case("run/a-directory", lambda b: ["run", b.folder("exp.yaml")], "is a directory", "usage"),
    Case("run/missing-file", lambda b: ["run", str(b.root / "nosuch.yaml")], "no experiment file"),
    Case(
        "run/workspace-under-a-file",
        # A path under a regular file: not even root can create it (chmod would not stop root).
        lambda b: ["--workspace", f"{b.a_file()}/ws", "run", b.write("exp.yaml", "name: demo\n")],
        "cannot use workspace",
    ),
    # the paper's data folders
    Case(
        "paper-data/empty-dir",
        lambda b: ["--paper-data", b.folder("empty"), "tasks", "list"],
        "no train_<name>.jsonl",
    ),
    Case(
        "paper-data/bad-json-row",
        lambda b: [
            "--paper-data",
            b.folder("pd", {"train_animals.jsonl": f"{PAPER_ROW}\n{{oops\n"}),
            "tasks",
            "list",
        ],
        "inward data check",
    ),
    Case(
        "paper-data/missing-string-column",
        lambda b: [
            "--paper-data",
            b.folder("pd", {"val_colors.jsonl": '{"text": "red"}\n'}),
            "tasks",
            "list",
        ],
        'missing "string"',
    ),
    Case(
        "paper-data/missing-target-column",
        lambda b: ["--paper-data", b.folder("pd", {"val_mmlu.jsonl": '{"string": "Q?"}\n'}), "tasks", "list"],
        'missing "target"',
    ),
    Case(
        "paper-data/not-a-dir",
        lambda b: ["--paper-data", b.a_file(), "tasks", "list"],
        "is a file",
        "usage",
    ),
    Case(
        "paper-data/missing-dir",
        lambda b: ["--paper-data", str(b.root / "nosuch"), "tasks", "list"],
        "does not exist",
        "usage",
    ),
    Case(
        "paper-data/task-without-data",
        lambda b: ["tasks", "show", "paper:animals_long"],
        "set INWARD_PAPER_DATA",
    ),
    Case("data-check/empty-dir", lambda b: ["data", "check", b.folder("empty")], "1 problem", "check"),
    Case(
        "data-check/bad-json-row",
        lambda b: ["data", "check", b.folder("pd", {"train_animals.jsonl": f"{PAPER_ROW}\n{{oops\n"})],
        "fix what is listed above",
        "check",
    ),
    Case(
        "data-check/missing-column",
        lambda b: ["data", "check", b.folder("pd", {"val_colors.jsonl": '{"text": "red"}\n'})],
        "fix what is listed above",
        "check",
    ),
    Case(
        "data-check/not-utf8",
        lambda b: ["data", "check", b.folder("pd", {"val_colors.jsonl": b'{"string": "r\xffd"}\n'})],
        "fix what is listed above",
        "check",
    ),
    Case(
        "data-check/folder-named-like-data",
        lambda b: ["data", "check", b.folder("pd", {"train_animals.jsonl/x": "hi"})],
        "fix what is listed above",
        "check",
    ),
    Case(
        "paper-data/folder-named-like-data",
        lambda b: ["--paper-data", b.folder("pd", {"train_animals.jsonl/x": "hi"}), "tasks", "list"],
        "no train_<name>.jsonl",
    ),
    Case("data-check/a-file", lambda b: ["data", "check", b.a_file()], "is a file", "usage"),
    # the paper's release files (`prompts show ... --release`)
    Case(
        "release/no-jsonl-files",
        lambda b: ["prompts", "show", "animals_long", "--release", b.folder("rel", {"notes.txt": "hi"})],
        "no .jsonl files",
    ),
    Case(
        "release/rows-missing-fields",
        lambda b: [
            "prompts",
            "show",
            "animals_long",
            "--release",
            b.jsonl("animals_first_word.jsonl", {"original_question": "q"}),
        ],
        "no usable rows in",
    ),
    Case(
        "release/not-json",
        lambda b: ["prompts", "show", "animals_long", "--release", b.write("animals_x.jsonl", "{nope\n")],
        "were skipped (first: animals_x.jsonl:1: error: invalid JSON",
    ),
    Case(
        "release/missing",
        lambda b: ["prompts", "show", "animals_long", "--release", str(b.root / "nosuch")],
        "does not exist",
        "usage",
    ),
    Case(
        "release/folder-named-jsonl",
        lambda b: [
            "prompts",
            "show",
            "animals_long",
            "--release",
            b.folder("rel", {"x.jsonl/notes.txt": "hi"}),
        ],
        "no .jsonl files",
    ),
    Case(
        "release/unknown-property",
        lambda b: [
            *("prompts", "show", "animals_long", "--release"),
            b.jsonl("animals_telepathy.jsonl", release_row(behavioral_property="telepathy")),
        ],
        "unknown property 'telepathy'",
    ),
    Case(
        "release/two-user-messages",
        lambda b: [
            *("prompts", "show", "animals_long", "--release"),
            b.jsonl(
                "animals_first_word.jsonl",
                release_row(object_level_prompt=[{"role": "user", "content": "a"}] * 2),
            ),
        ],
        "2 user messages; expected exactly one",
    ),
    # chat JSONL: `dataset stats`
    stats_case("not-json", "line 2: not valid JSON", GOOD_SET_ROW, "{oops"),
    stats_case("not-an-object", "line 1: not a JSON object", "[1, 2]"),
    stats_case("missing-messages", 'line 1: needs a non-empty "messages"', {"string": "x"}),
    stats_case("no-assistant-turn", "line 1: no assistant message", NO_ASSISTANT),
    stats_case("bad-role", "line 1: message 0: role", {"messages": [{"role": "robot", "content": "x"}]}),
    stats_case("empty-file", "the file has no examples"),
    stats_case("inward-key-not-an-object", '"inward" must be an object', {**GOOD_CHAT, "inward": "self"}),
    Case(
        "dataset-stats/not-utf8",
        lambda b: ["dataset", "stats", b.write("set.jsonl", b'{"messages": "\xff"}\n')],
        "line 1: not UTF-8 text",
    ),
    Case(
        "dataset-stats/bad-manifest",
        lambda b: ["dataset", "stats", b.with_manifest(b.jsonl("set.jsonl", GOOD_SET_ROW), "{")],
        "manifest.json is not valid JSON",
    ),
    Case(
        "dataset-stats/a-directory", lambda b: ["dataset", "stats", b.folder("d")], "is a directory", "usage"
    ),
    Case(
        "dataset-stats/missing",
        lambda b: ["dataset", "stats", str(b.root / "no.jsonl")],
        "does not exist",
        "usage",
    ),
    # chat JSONL: `train --data` (must fail before the base model is installed or loaded)
    train_case("not-json", "line 1: not valid JSON", "{oops"),
    train_case("not-an-object", "line 1: not a JSON object", '"just text"'),
    train_case("missing-messages", 'line 2: needs a non-empty "messages"', GOOD_CHAT, {"prompt": "x"}),
    train_case("no-assistant-turn", "line 1: no assistant message", NO_ASSISTANT),
    train_case("empty-file", "the file has no examples"),
    Case(
        "train/bad-val-data",
        lambda b: [
            *("train", "-m", BASE, "--data", b.good_chat(), "--out", "m1"),
            *("--val-data", b.jsonl("val.jsonl", NO_ASSISTANT)),
        ],
        "no assistant message",
    ),
    Case(
        "train/openai-bad-data",
        lambda b: [
            *("train", "-m", "openai/gpt-4o-mini", "--backend", "openai"),
            *("--data", b.jsonl("t.jsonl", "{oops"), "--out", "m1"),
        ],
        "line 1: not valid JSON",
    ),
    Case(
        "train/unknown-bundled-base",
        lambda b: ["train", "-m", "local/nosuch", "--data", b.good_chat(), "--out", "m1"],
        "unknown bundled model 'nosuch'",
    ),
    Case(
        "train/api-base-locally",
        lambda b: ["train", "-m", "openai/gpt-4o-mini", "--data", b.good_chat(), "--out", "m1"],
        "local training needs a local base model",
    ),
    Case(
        "train/bad-name",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "a/b"],
        "bad model name 'a/b'",
    ),
    Case(
        "train/zero-epochs",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--epochs", "0"],
        "'--epochs'",
        "usage",
    ),
    Case(
        "train/zero-lr",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--lr", "0"],
        "'--lr'",
        "usage",
    ),
    Case(
        "train/negative-checkpoint-every",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--checkpoint-every", "-1"],
        "'--checkpoint-every'",
        "usage",
    ),
    Case(
        "train/no-target-modules",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--target-modules", ","],
        "'--target-modules'",
        "usage",
    ),
    Case(
        "train/fractional-alpha",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--alpha", "16.5"],
        "bad training setting alpha",
    ),
    Case(
        "train/unknown-init-adapter",
        lambda b: ["train", "-m", BASE, "--data", b.good_chat(), "--out", "m1", "--init-adapter", "nosuch"],
        "no trained adapter named 'nosuch'",
    ),
    Case(
        "train/half-written-init-adapter",
        lambda b: [
            *("train", "-m", BASE, "--data", b.good_chat(), "--out", "m1"),
            *("--init-adapter", "cut-weights"),
        ],
        "is cut short",
    ),
    # model refs
    object_case("no-provider", "nosuch", "bad model ref 'nosuch'"),
    object_case("no-name", "local/", "bad model ref 'local/'"),
    object_case("api-url-not-a-url", "openai-compatible/x@notaurl", "openai-compatible/MODEL@http"),
    object_case("unknown-bundled-model", "local/nosuch", "unknown bundled model 'nosuch'"),
    object_case("missing-hf-folder", "hf/./no-such-folder", "no such local folder"),
    object_case("empty-adapter-name", f"{BASE}+adapter=", "'+adapter=' needs a name"),
    # adapters: refused before the base model is installed or loaded
    object_case("unknown-adapter", f"{BASE}+adapter=nosuch", "no trained adapter named 'nosuch'"),
    object_case("adapter-without-config", f"{BASE}+adapter=no-config", "has no adapter_config.json"),
    object_case("adapter-truncated-weights", f"{BASE}+adapter=cut-weights", "is cut short"),
    object_case("adapter-empty-weights", f"{BASE}+adapter=empty-weights", "is empty"),
    object_case("adapter-folder-gone", f"{BASE}+adapter=gone", "is missing"),
    Case(
        "object/adapter-path-half-written",
        lambda b: [
            *("object", "-t", "animals_long", "-m"),
            f"{BASE}+adapter={make_adapter(b.root / 'half', config=False)}",
        ],
        "has no adapter_config.json",
    ),
    Case(
        "meta/unknown-adapter",
        lambda b: ["hypothetical", "-m", f"{BASE}+adapter=nosuch", "-t", "animals_long"],
        "no trained adapter named 'nosuch'",
    ),
    # names and counts, checked before any backend is built
    Case("object/unknown-task", lambda b: ["object", "-m", BASE, "-t", "nosuch"], "unknown task 'nosuch'"),
    object_case("unknown-template", BASE, "unknown prompt template 'nosuch'", "--template", "nosuch"),
    object_case("negative-limit", BASE, "'--limit'", "--limit", "-5", kind="usage"),
    object_case("zero-limit", BASE, "'--limit'", "--limit", "0", kind="usage"),
    object_case("zero-samples", BASE, "'--samples'", "--samples", "0", kind="usage"),
    object_case("zero-batch-size", BASE, "'--batch-size'", "--batch-size", "0", kind="usage"),
    object_case("negative-max-tokens", BASE, "'--max-tokens'", "--max-tokens", "-1", kind="usage"),
    object_case("negative-temperature", BASE, "'--temperature'", "--temperature", "-1", kind="usage"),
    object_case("unknown-split", BASE, "'--split'", "--split", "test", kind="usage"),
    Case("object/no-model", lambda b: ["object", "-t", "animals_long"], "'-m' / '--model'", "usage"),
    Case(
        "meta/unknown-property",
        lambda b: ["hypothetical", "-m", BASE, "-t", "animals_long", "-p", "nosuch"],
        "unknown property 'nosuch'",
    ),
    Case(
        "meta/about-bad-ref",
        lambda b: ["hypothetical", "-m", BASE, "--about", "nosuch", "-t", "animals_long"],
        "bad model ref 'nosuch'",
    ),
    Case(
        "meta/about-unknown-adapter",
        lambda b: ["hypothetical", "-m", BASE, "--about", f"{BASE}+adapter=nosuch", "-t", "animals_long"],
        "no trained adapter named 'nosuch'",
    ),
    Case(
        "hypothetical/unknown-task",
        lambda b: ["hypothetical", "-m", BASE, "-t", "nosuch"],
        "unknown task 'nosuch'",
    ),
    Case(
        "hypothetical/negative-limit",
        lambda b: ["hypothetical", "-m", BASE, "--limit", "-1"],
        "'--limit'",
        "usage",
    ),
    Case(
        "score/unknown-task",
        lambda b: ["score", "--object", BASE, "--meta", BASE, "-t", "nosuch"],
        "unknown task 'nosuch'",
    ),
    # dataset build self | cross | shift
    Case(
        "dataset-build/self-without-model",
        lambda b: ["dataset", "build", "self", "-o", "x.jsonl"],
        "-m",
        "usage",
    ),
    Case(
        "dataset-build/unknown-task",
        lambda b: ["dataset", "build", "self", "-m", BASE, "-t", "nosuch", "-o", "x.jsonl"],
        "unknown task 'nosuch'",
    ),
    Case(
        "dataset-build/unknown-property",
        lambda b: ["dataset", "build", "self", "-m", BASE, "-p", "nosuch", "-o", "x.jsonl"],
        "unknown property 'nosuch'",
    ),
    Case(
        "dataset-build/zero-per-combo",
        lambda b: ["dataset", "build", "self", "-m", BASE, "--per-combo", "0", "-o", "x.jsonl"],
        "'--per-combo'",
        "usage",
    ),
    Case(
        "dataset-build/negative-items-per-task",
        lambda b: ["dataset", "build", "self", "-m", BASE, "--items-per-task", "-1", "-o", "x.jsonl"],
        "'--items-per-task'",
        "usage",
    ),
    Case(
        "dataset-build/negative-val-fraction",
        lambda b: ["dataset", "build", "self", "-m", BASE, "--val-fraction", "-0.1", "-o", "x.jsonl"],
        "'--val-fraction'",
        "usage",
    ),
    Case(
        "dataset-build/zero-rows",
        lambda b: ["dataset", "build", "shift", "-m", BASE, "--from", BASE, "--rows", "0", "-o", "x.jsonl"],
        "'--rows'",
        "usage",
    ),
    Case(
        "dataset-build/self-distill-one",
        lambda b: [
            *("dataset", "build", "shift", "-m", BASE, "--from", BASE),
            *("--self-distill", "1", "-o", "x.jsonl"),
        ],
        "'--self-distill'",
        "usage",
    ),
    Case(
        "dataset-build/out-under-a-file",
        lambda b: ["dataset", "build", "self", "-m", BASE, "-o", f"{b.a_file()}/x.jsonl"],
        "is not a folder",
    ),
    Case(
        "dataset-build/unknown-bundled-model",
        lambda b: ["dataset", "build", "self", "-m", "local/nosuch", "-o", "x.jsonl"],
        "unknown bundled model 'nosuch'",
    ),
    Case(
        "dataset-build/shift-bad-source",
        # The target is fine: the bad source must be found before the target's backend is built.
        lambda b: [
            "dataset",
            "build",
            "shift",
            "-m",
            BASE,
            "--from",
            f"{BASE}+adapter=nosuch",
            "-o",
            "x.jsonl",
        ],
        "no trained adapter named 'nosuch'",
    ),
    Case(
        "dataset-build/cross-like-without-ids",
        lambda b: [
            *("dataset", "build", "cross", "--behaviour-of", BASE),
            *("--like", b.good_chat(), "-o", "x.jsonl"),
        ],
        '"inward" must be an object with task, property, item_id',
    ),
    Case(
        "dataset-build/cross-like-not-json",
        lambda b: [
            *("dataset", "build", "cross", "--behaviour-of", BASE),
            *("--like", b.write("like.jsonl", "{oops\n"), "-o", "x.jsonl"),
        ],
        "line 1: not valid JSON",
    ),
    # workspaces and stores
    Case(
        "workspace/is-a-file",
        lambda b: ["--workspace", b.a_file(), "object", "-m", BASE, "-t", "animals_long"],
        "is a file",
        "usage",
    ),
    Case(
        "workspace/under-a-file",
        # Tests run as root, so a read-only folder would not stop them: a path under a regular file does.
        lambda b: ["--workspace", f"{b.a_file()}/ws", "object", "-m", BASE, "-t", "animals_long"],
        "cannot use workspace",
    ),
    Case(
        "workspace/in-proc",
        # /proc refuses new folders, even to root.
        lambda b: [
            *("--workspace", "/proc/inward-no-such-workspace"),
            *("train", "-m", BASE, "--data", b.good_chat(), "--out", "m1"),
        ],
        "cannot use workspace",
    ),
    Case(
        "workspace/env-under-a-file",
        lambda b: ["object", "-m", BASE, "-t", "animals_long"],
        "cannot use workspace",
        env=lambda b: {"INWARD_WORKSPACE": f"{b.a_file()}/ws"},
    ),
    Case(
        "store/newer-schema",
        lambda b: ["--workspace", b.set_db_version(999), "object", "-m", BASE, "-t", "animals_long"],
        "newer than this inward understands",
    ),
    Case(
        "store/db-is-a-folder",
        lambda b: [
            "--workspace",
            str(Path(b.folder("ws2/inward.db")).parent),
            *("object", "-m", BASE, "-t", "animals_long"),
        ],
        "cannot open the store",
    ),
    Case(
        "store/db-not-sqlite",
        lambda b: [
            "--workspace",
            str(Path(b.write("ws3/inward.db", "not a database\n" * 100)).parent),
            *("object", "-m", BASE, "-t", "animals_long"),
        ],
        "is not a usable inward database",
    ),
    # catalogue, reports, models
    Case("report/unknown-run", lambda b: ["report", "NOSUCH"], "no results.json for run 'NOSUCH'"),
    Case("tasks-show/unknown-task", lambda b: ["tasks", "show", "nosuch"], "unknown task 'nosuch'"),
    Case(
        "tasks-show/negative-count", lambda b: ["tasks", "show", "animals_long", "-n", "-1"], "'-n'", "usage"
    ),
    Case("tasks-list/unknown-role", lambda b: ["tasks", "list", "--role", "boss"], "'--role'", "usage"),
    Case(
        "prompts-show/negative-index",
        lambda b: ["prompts", "show", "animals_long", "--index", "-1"],
        "'--index'",
        "usage",
    ),
    Case(
        "prompts-show/unknown-property",
        lambda b: ["prompts", "show", "animals_long", "-p", "nosuch"],
        "unknown property 'nosuch'",
    ),
    Case("models-info/unknown", lambda b: ["models", "info", "nosuch"], "unknown bundled model 'nosuch'"),
    Case(
        "models-install/unknown", lambda b: ["models", "install", "nosuch"], "unknown bundled model 'nosuch'"
    ),
    Case("demo/unknown-profile", lambda b: ["demo", "--profile", "gpu"], "'--profile'", "usage"),
    Case("cli/unknown-command", lambda b: ["frobnicate"], "No such command 'frobnicate'", "usage"),
]


def test_the_battery_is_big_and_covers_every_command() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    groups = {c.id.split("/")[0] for c in CASES}
    for group in (
        "run",
        "paper-data",
        "data-check",
        "release",
        "dataset-stats",
        "train",
        "object",
        "hypothetical",
        "meta",
        "score",
        "dataset-build",
        "workspace",
        "store",
        "report",
    ):
        assert group in groups


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_line(
    case: Case, box: Box, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = case.argv(box)  # may set up the workspace first (e.g. a newer schema)
    before = store_digest(box.db)
    for k, v in case.env(box).items():
        monkeypatch.setenv(k, v)
    snapshots = {p: p.read_bytes() for p in box.root.rglob("inward.db") if p.is_file()}
    dumps = {p: store_digest(p) for p in snapshots if p.read_bytes()[:16] == b"SQLite format 3\0"}

    code, out, err = run_main(capsys, argv)

    assert "Traceback" not in out + err
    assert code == (1 if case.kind == "check" else 2), (code, out, err)
    line = error_line(case.kind, err)
    if os.environ.get("BAD_INPUTS_SHOW"):
        print(f"{case.id}: {line}", file=sys.__stderr__)
    assert case.says.lower() in line.lower(), line
    assert store_digest(box.db) == before, "the failed command changed the store"
    for p, digest in dumps.items():
        assert store_digest(p) == digest, f"the failed command changed {p}"
    for p, raw in snapshots.items():
        if p not in dumps:
            assert p.read_bytes() == raw, f"the failed command changed {p}"


def test_a_newer_store_is_left_at_its_version(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    ws = box.set_db_version(999)
    before = store_digest(box.db)
    code, _, err = run_main(capsys, ["--workspace", ws, "object", "-m", BASE, "-t", "animals_long"])
    assert code == 2 and "newer than this inward understands" in err
    assert store_digest(box.db) == before
    con = sqlite3.connect(box.db)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 999
    finally:
        con.close()


# -- the controls: good input passes the same checks, and the tripwires do fire -------------------------------


def test_good_training_input_gets_as_far_as_the_model(box: Box) -> None:
    """Valid data and settings pass every check and reach the (tripwired) model install: the battery's train
    cases fail for their bad input, not because `train` refuses everything."""
    with pytest.raises(Tripwire):
        main(["train", "-m", BASE, "--data", box.good_chat(), "--out", "m1", "--init-adapter", "complete"])


def test_good_object_input_gets_as_far_as_the_model(box: Box) -> None:
    with pytest.raises(Tripwire):
        main(["object", "-m", f"{BASE}+adapter=complete", "-t", "animals_long", "--limit", "1"])


def test_good_dataset_stats(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(
        capsys, ["dataset", "stats", box.jsonl("set.jsonl", GOOD_SET_ROW, GOOD_SET_ROW)]
    )
    assert code == 0, err
    assert "2 rows" in out and "animals_long/first_word" in out


def test_a_good_release_row_renders(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    """The release cases fail for their one bad field: the same row, unchanged, gives a template."""
    release = box.jsonl("animals_first_word.jsonl", release_row())
    code, out, err = run_main(capsys, ["prompts", "show", "animals_long", "--release", release])
    assert code == 0, err
    assert "paper-release" in out


def test_complete_adapter_folder_passes_and_each_half_written_one_fails(tmp_path: Path) -> None:
    from inward.errors import UserError
    from inward.runs.adapters import check_adapter_folder

    good = make_adapter(tmp_path / "good")
    assert check_adapter_folder(good) == good
    for name, kwargs in {
        "no-config": {"config": False},
        "no-weights": {"weights": None},
        "empty": {"weights": "empty"},
        "truncated": {"weights": "truncated"},
    }.items():
        with pytest.raises(UserError):
            check_adapter_folder(make_adapter(tmp_path / name, **kwargs))  # type: ignore[arg-type]
    (tmp_path / "bad-header").mkdir()
    (tmp_path / "bad-header" / "adapter_config.json").write_text("{}")
    (tmp_path / "bad-header" / "adapter_model.safetensors").write_bytes(struct.pack("<Q", 4) + b"{no}")
    with pytest.raises(UserError, match="broken header"):
        check_adapter_folder(tmp_path / "bad-header")


# -- the real entry point --------------------------------------------------------------------------------------


def _inward(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No tripwires in a subprocess: a cache folder under a regular file makes an install attempt fail at once
    # (the models' packages may be installed here, so an empty cache would not stop one).
    (tmp_path / "no-cache").write_text("")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "INWARD_WORKSPACE": str(tmp_path / "ws"),
        "INWARD_CACHE_DIR": str(tmp_path / "no-cache" / "cache"),
        "INWARD_NO_PIP": "1",
    }
    env.pop("INWARD_PAPER_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "inward", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "{dir}/exp.yaml"), "not UTF-8 text"),
        (("dataset", "stats", "{dir}/set.jsonl"), "line 2: not valid JSON"),
        (("object", "-m", BASE, "-t", "nosuch"), "unknown task 'nosuch'"),
    ],
    ids=["run-not-utf8", "dataset-stats-bad-line", "object-unknown-task"],
)
def test_console_entry_point(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    (tmp_path / "exp.yaml").write_bytes(b"name: demo\nseed: \xff\n")
    (tmp_path / "set.jsonl").write_text(json.dumps(GOOD_CHAT) + "\n{oops\n")
    done = _inward(tmp_path, *(a.format(dir=tmp_path) for a in args))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr
