"""restyle: self-hosted image style transfer, wire-compatible with Tencent Cloud AI Art ImageToImage."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
