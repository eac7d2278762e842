"""Errors a user can cause. The CLI prints them as one line and exits non-zero; bugs still raise."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (bad flag, unknown task, missing extra). The message says what to do."""


class MissingExtraError(UserError):
    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'inward[{extra}]'")
