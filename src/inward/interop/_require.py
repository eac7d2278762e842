"""The one place that checks inspect_ai is installed, so a missing extra is one line, not an ImportError."""

from __future__ import annotations

from inward.errors import MissingExtraError


def require_inspect() -> None:
    """Raise `MissingExtraError` (pip install 'inward[inspect]') when inspect_ai cannot be imported."""
    try:
        import inspect_ai  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingExtraError(f"inspect_ai interop ({e.name})", "inspect") from e
