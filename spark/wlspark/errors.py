"""Errors the job reports as one line, and warnings."""

from __future__ import annotations

import sys


class JobError(Exception):
    """An error with one clear message for the operator (no traceback)."""


def warn(message: str) -> None:
    """A condition the job carries on through but that changes what it does (slower, less
    atomic, less exact typing): said on stderr so an operator can see why."""
    print(f"weblog-spark: warning: {message}", file=sys.stderr)


def one_line(e: BaseException) -> str:
    """Spark's message without the plan dump and JVM stack that follow its first line."""
    s = str(e).strip().split("\nJVM stacktrace:")[0].split("\n")[0]
    return " ".join(s.split())[:1500]
