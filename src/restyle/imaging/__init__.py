"""The only module that converts between bytes, PIL images and arrays.

Canonical image everywhere else in restyle: ``numpy.ndarray`` RGB ``uint8`` of shape H×W×3, C-contiguous.
"""

from __future__ import annotations

from restyle.imaging.convert import (
    ensure_rgb,
    from_pil,
    resize,
    to_gray,
    to_pil,
)
from restyle.imaging.decode import DecodeLimits, decode, probe, sniff_format
from restyle.imaging.encode import encode_jpeg, encode_png

__all__ = [
    "DecodeLimits",
    "decode",
    "encode_jpeg",
    "encode_png",
    "ensure_rgb",
    "from_pil",
    "probe",
    "resize",
    "sniff_format",
    "to_gray",
    "to_pil",
]
