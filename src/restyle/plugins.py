"""Plugin resolution shared by every plugin kind: a short registry name or a dotted path.

Resolved once at startup; an unknown name or a missing optional dependency stops startup with a
message that says what to install.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(kind: str, name: str, registry: dict[str, str]) -> Any:
    """``registry`` maps short names to ``module:attr``; a name with a dot or colon is used as a path."""
    target = registry.get(name, name)
    if "." not in target and ":" not in target:
        known = ", ".join(sorted(registry))
        msg = f"unknown {kind} {name!r}; known: {known}, or a dotted path module:Class"
        raise ValueError(msg)
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"{kind} {name!r} cannot be loaded: {exc}"
        raise RuntimeError(msg) from exc
    try:
        return getattr(module, attr or "Plugin")
    except AttributeError:
        msg = f"{kind} {name!r}: {module_name} has no {attr!r}"
        raise RuntimeError(msg) from None
