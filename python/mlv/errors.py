"""Exceptions raised by :mod:`mlv`.

Each carries the message ``git mlv`` prints for the same failure (its ``error:`` line,
then its ``hint:`` lines), so a notebook shows what the command line would.
"""

from __future__ import annotations

import errno
from typing import Optional


class MlvError(Exception):
    """A git-mlv error. ``str(e)`` is the CLI's message with its hint lines; ``e.hint`` is
    the last hint alone (or ``None``); ``e.exit_code`` is the CLI's exit code."""

    exit_code = 1

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(MlvError):
    """The request is wrong: a bad revision, path or setting (the CLI exits 2)."""

    exit_code = 2


class OperationError(MlvError):
    """The operation ran and failed: the remote unreachable, data damaged (the CLI exits 1)."""

    exit_code = 1


class NotTrackedError(UsageError, FileNotFoundError):
    """The path is not tracked at that revision: also a :class:`FileNotFoundError`."""

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message, hint)
        self.errno = errno.ENOENT


__all__ = ["MlvError", "UsageError", "OperationError", "NotTrackedError"]
