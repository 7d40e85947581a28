"""Hand-made image bytes for the imaging tests: every format and mode, EXIF orientations, headers
that lie, and files of formats outside the allow-list."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from tests.conftest import photo

# EXIF orientation n: how the stored pixels must be turned to stand upright (EXIF 2.3, tag 0x0112)
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=-1),  # rotate 90° clockwise
    7: lambda a: np.rot90(a, k=2).transpose(1, 0, 2),
    8: lambda a: np.rot90(a, k=1),  # rotate 90° counter-clockwise
}
# ... and the inverse: the stored pixels of an upright image for orientation n
STORED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=1),
    7: lambda a: np.rot90(a, k=2).transpose(1, 0, 2),
    8: lambda a: np.rot90(a, k=-1),
}


def quadrants(width: int = 160, height: int = 100) -> np.ndarray:
    """Four flat colours (red, green, blue, yellow from top-left, clockwise): orientation is visible."""
    img = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    img[:h2, :w2] = (220, 30, 30)
    img[:h2, w2:] = (30, 200, 40)
    img[h2:, w2:] = (30, 40, 220)
    img[h2:, :w2] = (230, 220, 30)
    return img


def quadrant_means(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    h2, w2, mh, mw = h // 2, w // 2, h // 8, w // 8
    cells = [img[mh : h2 - mh, mw : w2 - mw], img[mh : h2 - mh, w2 + mw : w - mw]]
    cells += [img[h2 + mh : h - mh, w2 + mw : w - mw], img[h2 + mh : h - mh, mw : w2 - mw]]
    return np.array([c.reshape(-1, 3).mean(0) for c in cells])


def save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def with_orientation(img: np.ndarray, orientation: int, fmt: str = "JPEG") -> bytes:
    """``img`` stored turned for ``orientation``, with that EXIF tag, so a viewer shows ``img``."""
    stored = np.ascontiguousarray(STORED[orientation](img))
    exif = Image.Exif()
    exif[0x0112] = orientation
    extra: dict[str, object] = {"quality": 95} if fmt == "JPEG" else {}
    return save(Image.fromarray(stored), fmt, exif=exif.tobytes(), **extra)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width × height, followed by an IDAT far too short for that image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def sample(size: tuple[int, int] = (120, 90)) -> np.ndarray:
    return photo("coffee", size)


def cmyk_jpeg(img: np.ndarray) -> bytes:
    return save(Image.fromarray(img).convert("CMYK"), "JPEG", quality=95)


def grey16(img: np.ndarray, fmt: str = "PNG") -> bytes:
    """``img`` as 16-bit greyscale (PNG and TIFF can hold it)."""
    grey = np.asarray(Image.fromarray(img).convert("L"), np.uint16) * 257
    return save(Image.fromarray(grey), fmt)


def palette_with_transparency(img: np.ndarray) -> bytes:
    """A P-mode PNG whose palette index 0 is transparent; the left quarter uses index 0."""
    pal = Image.fromarray(img).quantize(64)
    arr = np.asarray(pal).copy()
    arr[arr == 0] = 1
    arr[:, : arr.shape[1] // 4] = 0
    out = Image.fromarray(arr, mode="P")
    out.putpalette(pal.getpalette() or [])
    return save(out, "PNG", transparency=0)


def rgba_png(img: np.ndarray, alpha: int = 0) -> bytes:
    """RGBA PNG: left half fully opaque, right half at ``alpha``."""
    a = np.full(img.shape[:2], 255, np.uint8)
    a[:, img.shape[1] // 2 :] = alpha
    return save(Image.fromarray(np.dstack([img, a]), mode="RGBA"), "PNG")


def la_png(img: np.ndarray) -> bytes:
    grey = np.asarray(Image.fromarray(img).convert("L"))
    a = np.full(grey.shape, 255, np.uint8)
    a[:, : grey.shape[1] // 3] = 0
    return save(Image.fromarray(np.dstack([grey, a]), mode="LA"), "PNG")


def multi_frame(fmt: str, frames: list[np.ndarray], **kw: object) -> bytes:
    ims = [Image.fromarray(f) for f in frames]
    return save(ims[0], fmt, save_all=True, append_images=ims[1:], **kw)


def gif(img: np.ndarray) -> bytes:
    return save(Image.fromarray(img), "GIF")


PSD_HEAD = (
    b"8BPS\x00\x01"
    + b"\x00" * 6
    + b"\x00\x03"
    + struct.pack(">II", 90, 120)
    + b"\x00\x08\x00\x03"
    + b"\x00" * 64
)
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="120" height="90"><rect width="120" height="90"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
