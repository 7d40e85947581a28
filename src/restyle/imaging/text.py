"""Text rasterisation for the AI label, with the CJK font that ships inside the package.

The machine may have no CJK font and nothing is downloaded at run time, so restyle carries a tiny
subset of Noto Sans SC (SIL OFL 1.1): 图片由生成 plus printable ASCII (``assets/fonts/README.md`` says where
it comes from and how it was made). The file is read on first use and cached, as is each size.
FreeType faces are not safe to share between threads, so rendering holds a lock (labels are small).
"""

from __future__ import annotations

import io
import threading
from functools import cache, lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LABEL_FONT = "NotoSansSC-label-subset.ttf"
#: characters the shipped label font can draw; anything else would render as the .notdef box
LABEL_FONT_CHARS = frozenset("图片由生成" + "".join(chr(c) for c in range(0x20, 0x7F)))

_lock = threading.Lock()


@cache
def font_bytes(name: str = LABEL_FONT) -> bytes:
    """The font file shipped under ``restyle/assets/fonts`` (read once)."""
    from importlib import resources

    ref = resources.files("restyle").joinpath("assets").joinpath("fonts").joinpath(name)
    try:
        return ref.read_bytes()
    except FileNotFoundError:
        msg = f"font {name} is missing from restyle/assets/fonts: the package was installed without its data files"
        raise RuntimeError(msg) from None


@lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(font_bytes(name)), size)


def text_mask(text: str, size: int, font: str = LABEL_FONT) -> np.ndarray:
    """Coverage of ``text`` set at ``size`` px: uint8 H×W (0..255), cropped to the ink's bounding box."""
    if size < 1:
        msg = f"font size must be at least 1 px, got {size}"
        raise ValueError(msg)
    with _lock:
        f = _font(font, size)
        left, top, right, bottom = (int(v) for v in f.getbbox(text))
        im = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(im).text((-left, -top), text, font=f, fill=255)
        return np.array(im, dtype=np.uint8)
