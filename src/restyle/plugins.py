"""What every plugin kind shares: the :class:`Plugin` protocol and resolution by name.

A plugin is named by a short registry name or a dotted path, resolved once at startup; an unknown name
or a missing optional dependency stops startup with a message that says what to install. Every kind's
base class (``BaseEngine``, ``BaseStorage``, ``BaseModerator``, ``BaseRestorer``, ``BaseUpscaler``,
``BaseLimiter``) derives from :class:`Plugin`, so the service builds, probes and closes them all alike:

    from_settings(settings)  build it (plugins with options of their own override this)
    ready()                  raise when its backend is unusable; /readyz probes plugins that override it
    close()                  give back what it holds, at shutdown
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from restyle.config import Settings


class Plugin:
    """Base of every plugin kind's base class (the hooks the service calls; all optional)."""

    name = "base"

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build the plugin from the node's settings (the default takes no options)."""
        return cls()

    def ready(self) -> None:
        """Raise when the backend this plugin talks to is not usable (a server, a bucket, a cluster)."""

    def close(self) -> None:
        """Give back what this plugin holds (connections, leases, remote replicas), at shutdown."""


def probed(part: Plugin) -> bool:
    """True when ``part`` has a backend worth probing (its class overrides ``ready``)."""
    return type(part).ready is not Plugin.ready


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
