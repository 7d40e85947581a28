"""Small input images and checks on result images."""

from __future__ import annotations

import base64
import functools
import io

from PIL import Image

from tests.conftest import b64, encode, photo


@functools.cache
def jpeg(width: int = 256, height: int = 256) -> bytes:
    """A real photo (scikit-image astronaut) resized to width×height, as JPEG."""
    return encode(photo("astronaut", (width, height)), "JPEG", quality=85)


@functools.cache
def jpeg_b64(width: int = 256, height: int = 256) -> str:
    return b64(jpeg(width, height))


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A real, valid PNG of the given size; zeros compress to almost nothing, so 5000 px costs ~10 KB."""
    buf = io.BytesIO()
    Image.new("L", (width, height)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def open_jpeg(data: bytes) -> Image.Image:
    """Decode ``data`` fully and check it is a JPEG."""
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG", img.format
    img.load()
    return img


def result_jpeg(result_image: str) -> Image.Image:
    """A base64 ResultImage → decoded JPEG."""
    return open_jpeg(base64.b64decode(result_image, validate=True))
