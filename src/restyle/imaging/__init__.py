"""The only module that converts between bytes, PIL images and arrays.

Canonical image everywhere else in restyle: ``numpy.ndarray`` RGB ``uint8`` of shape H×W×3, C-contiguous.
The one exception is a logo (``decode_rgba``): RGBA uint8 H×W×4, composited with ``paste_rgba``.
"""

from __future__ import annotations

from restyle.imaging.arrays import F32, U8
from restyle.imaging.compose import over_colour, paste_rgba, rounded_rect_alpha
from restyle.imaging.convert import (
    ensure_rgb,
    fit,
    from_pil,
    from_pil_rgba,
    resize,
    to_gray,
    to_pil,
)
from restyle.imaging.decode import DecodeLimits, decode, decode_rgba, probe, sniff_format
from restyle.imaging.encode import encode_jpeg, encode_png
from restyle.imaging.text import LABEL_FONT_CHARS, text_mask

__all__ = [
    "F32",
    "LABEL_FONT_CHARS",
    "U8",
    "DecodeLimits",
    "decode",
    "decode_rgba",
    "encode_jpeg",
    "encode_png",
    "ensure_rgb",
    "fit",
    "from_pil",
    "from_pil_rgba",
    "over_colour",
    "paste_rgba",
    "probe",
    "resize",
    "rounded_rect_alpha",
    "sniff_format",
    "text_mask",
    "to_gray",
    "to_pil",
]
