"""How the store encodes values: JSON text for JSON columns, UTC ISO timestamps, and the credential guard.

`find_secret(request)` returns the path of a key that names a credential (api_key, x-api-key,
Authorization, ...) or None; the store refuses to cache such requests: a backend that passes one along has a
bug.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

# Keys that carry credentials in HTTP requests/SDK kwargs: api_key, x-api-key, Authorization, ...
_SECRET_KEY = re.compile(
    r"(^|[_\-])(api[_\-]?key|authorization|access[_\-]?token|auth[_\-]?token|password)$", re.I
)


def now() -> str:
    """UTC time, ISO 8601 with milliseconds: sorts as text."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    # allow_nan=False: NaN is not JSON and would not survive a round trip through other tools.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def find_secret(value: Any, path: str = "request") -> str | None:
    """The JSON path of the first key in `value` that names a credential, else None."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            where = f"{path}.{k}"
            if isinstance(k, str) and _SECRET_KEY.search(k):
                return where
            found = find_secret(v, where)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = find_secret(v, f"{path}[{i}]")
            if found:
                return found
    return None
