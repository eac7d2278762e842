"""Interoperability with UK AISI's inspect_ai (needs the `inspect` extra).

    inspect eval inward/self_prediction --model openai/gpt-4o-mini -T tasks=animals_long,mmlu_non_cot
    inspect eval inward/self_prediction --model inward/local/smollm2-135m --model-role object=inward/local/qwen2.5-0.5b
    inward object -m inspect/google/gemini-1.5-flash -t animals_long          # any inspect provider in inward
    inward inspect export-log -m local/smollm2-135m -o /tmp/smollm.eval       # then: inspect view
    inward inspect import-log /tmp/logs/....eval                              # a log's answers as behaviour

Public names (imported on first use, so `import inward.interop` does not import inspect_ai):
`self_prediction` (the inspect task), `InspectBackend` (inspect models as inward backends), `InwardModelAPI`
(inward backends as an inspect model API), `export_log` / `import_log` (logs both ways).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "self_prediction": "inward.interop.task",
    "InspectBackend": "inward.interop.backend",
    "InwardModelAPI": "inward.interop.modelapi",
    "export_log": "inward.interop.logs",
    "import_log": "inward.interop.logs",
    "Exported": "inward.interop.logs",
    "Imported": "inward.interop.logs",
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'inward.interop' has no attribute {name!r}")
    from inward.interop._require import require_inspect

    require_inspect()
    return getattr(import_module(_NAMES[name]), name)


__all__ = sorted(_NAMES)
