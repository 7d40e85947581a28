"""restyle: self-hosted image style transfer, wire-compatible with Tencent Cloud AI Art ImageToImage."""

from __future__ import annotations

from importlib import metadata


def _version() -> str:
    """The installed distribution's version: pyproject.toml's ``[project] version`` is the one source."""
    try:
        return metadata.version("restyle")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, never installed
        return "0+unknown"


__version__ = _version()
__all__ = ["__version__"]
