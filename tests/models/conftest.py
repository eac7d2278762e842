"""Fixtures for the model registry tests: a private cache dir and a fake site-packages with a fake pip."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inward.models import _packages
from inward.models._registry import REGISTRY, BundledModel, LoraDefaults, Package, PartFile


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty user cache."""
    d = tmp_path / "cache"
    monkeypatch.setenv("INWARD_CACHE_DIR", str(d))
    monkeypatch.delenv("INWARD_NO_PIP", raising=False)
    monkeypatch.delenv("INWARD_ALLOW_HUB", raising=False)
    return d


@dataclass
class FakeSite:
    """Stands in for site-packages + pip: `available` is what pip could install, `installed` what is there."""

    root: Path
    available: dict[str, tuple[str, dict[str, bytes]]] = field(
        default_factory=dict
    )  # name -> (version, files)
    installed: dict[str, str] = field(default_factory=dict)
    pip_calls: list[list[str]] = field(default_factory=list)
    located: list[PartFile] = field(default_factory=list)
    pip_error: str | None = None

    def publish(self, package: Package, files: dict[str, bytes]) -> None:
        self.available[package.name] = (package.version, files)

    def install(self, name: str) -> None:
        version, files = self.available[name]
        for rel, data in files.items():
            p = self.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        self.installed[name] = version

    def run_pip(self, cmd: list[str], *, progress: bool) -> subprocess.CompletedProcess[str]:
        self.pip_calls.append(cmd)
        if self.pip_error:
            return subprocess.CompletedProcess(cmd, 1, None, f"Collecting x\n{self.pip_error}\n")
        for spec in (a for a in cmd[4:] if not a.startswith("--")):
            name, _, version = spec.partition("==")
            if name in self.available and self.available[name][0] == version:
                self.install(name)
        return subprocess.CompletedProcess(cmd, 0, None, "")

    def locate(self, part: PartFile) -> Path | None:
        self.located.append(part)
        p = self.root / part.path
        return p if part.package in self.installed and p.is_file() else None


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    s = FakeSite(tmp_path / "site-packages")
    monkeypatch.setattr(_packages, "installed_version", lambda name: s.installed.get(name))
    monkeypatch.setattr(_packages, "locate_part", s.locate)
    monkeypatch.setattr(_packages, "run_pip", s.run_pip)
    yield s


RegisterFake = Callable[[list[bytes]], BundledModel]


@pytest.fixture
def register_fake(monkeypatch: pytest.MonkeyPatch, site: FakeSite) -> RegisterFake:
    """`register_fake(chunks)`: a registered model split over len(chunks) packages on the fake index."""
    return lambda chunks: _register_fake(monkeypatch, site, chunks)


def _register_fake(monkeypatch: pytest.MonkeyPatch, site: FakeSite, chunks: list[bytes]) -> BundledModel:
    name = "fake-model"
    packages = tuple(Package(f"fake-part{i}", "1.0") for i in range(1, len(chunks) + 1))
    parts = tuple(PartFile(p.name, f"fake_part{i}/data/part{i:02d}.bin") for i, p in enumerate(packages, 1))
    for pkg, part, data in zip(packages, parts, chunks, strict=True):
        site.publish(pkg, {part.path: data})
    blob = b"".join(chunks)
    model = BundledModel(
        name=name,
        description="a fake model for tests",
        upstream="nobody/fake",
        architecture="LlamaForCausalLM",
        packages=packages,
        parts=parts,
        gguf_file="fake.gguf",
        quantization="Q4_0",
        sha256=hashlib.sha256(blob).hexdigest(),
        size_bytes=len(blob),
        hf_size_bytes=1024,
        parameters=1,
        license="MIT",
        default=False,
        lora=LoraDefaults(),
    )
    monkeypatch.setitem(REGISTRY, name, model)
    return model
