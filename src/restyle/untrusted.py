"""Helpers for strings a client sent: ASCII-only number checks and clipped echoes.

``str.isdigit()`` and ``int()`` accept far more than ASCII digits (``"²".isdigit()`` is true and
``int("²")`` fails; ``int("٣")`` is 3; ``int("1_0")`` is 10) and ``int()`` refuses more than 4300
digits with an exception. Every number taken from a header, query, form or path goes through
:func:`ascii_int` instead. Every value echoed in an error message goes through :func:`shown`, so a
reply never grows with the request (at most :data:`ECHO_CHARS` characters of any one value).
"""

from __future__ import annotations

import re
from typing import Any

ECHO_CHARS = 40
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_digits(text: str, max_len: int = 18) -> bool:
    """True for 1..max_len ASCII digits and nothing else."""
    return 0 < len(text) <= max_len and text.isascii() and text.isdigit()


def ascii_int(text: str, max_len: int = 20) -> int | None:
    """An optionally signed ASCII decimal integer of at most ``max_len`` characters, else None."""
    if len(text) > max_len or not _INT_RE.fullmatch(text):
        return None
    return int(text)


def ascii_float(text: str, max_len: int = 64) -> float | None:
    """A plain ASCII decimal number (no nan/inf, no underscores), else None."""
    if len(text) > max_len or not _FLOAT_RE.fullmatch(text):
        return None
    return float(text)


def shown(value: Any, limit: int = ECHO_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (``...`` marks a cut)."""
    text = repr(value) if not isinstance(value, list | tuple) else repr(list(value)[:8])
    return text if len(text) <= limit else text[: limit - 3] + "..."
