"""Safe decoding: format allow-list sniffed from content, sizes checked from the header before pixels.

Only JPEG, PNG, BMP, TIFF and WEBP are opened, and only by their own Pillow plugin (``formats=``), so
a GIF, PSD, SVG or PDF renamed ``.jpg`` never reaches a decoder. Multi-frame files give their first
frame. EXIF orientation is applied. Every mode is normalised to RGB uint8.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, PngImagePlugin

from restyle import errors
from restyle.imaging import jpeg
from restyle.imaging.convert import from_pil, from_pil_rgba

# Bounded metadata: PNG text chunks are small in real photos.
PngImagePlugin.MAX_TEXT_CHUNK = 256 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Sides are checked (< 5000) before any pixel is decoded; this is a second, global line of defence.
Image.MAX_IMAGE_PIXELS = 5000 * 5000

ALLOWED = ("JPEG", "PNG", "BMP", "TIFF", "WEBP")


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    max_side: int = 5000  # a side >= this → ImageResolutionExceed
    min_side: int = 50  # a side <= this → ParameterValueError
    max_jpeg_scans: int = jpeg.MAX_SCANS  # more → ImageDecodeFailed (scan bombs), see imaging.jpeg
    max_jpeg_scan_pixels: int = jpeg.MAX_SCAN_PIXELS  # scans × width × height, the decode budget


def sniff_format(data: bytes) -> str:
    """The format named by the file's magic bytes, if it is one of the allowed five."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"BM") and len(data) > 26:
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    msg = "The image is not JPEG, PNG, BMP, TIFF or WEBP (judged from its content)."
    raise errors.ImageDecodeFailed(msg)


def _open(data: bytes, fmt: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # header-only parse; size checks follow
            return Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError:
        msg = "The image header declares too many pixels."
        raise errors.ImageResolutionExceed(msg) from None
    except Exception:
        msg = f"The {fmt} header could not be read (corrupt or truncated file)."
        raise errors.ImageDecodeFailed(msg) from None


def _check_structure(data: bytes, fmt: str, limits: DecodeLimits) -> None:
    """Refuse, before decoding, what the file's structure shows to be a bomb or mostly missing."""
    if fmt == "JPEG":
        jpeg.check(data, limits.max_jpeg_scans, limits.max_jpeg_scan_pixels)


def _check_size(width: int, height: int, limits: DecodeLimits) -> None:
    if width >= limits.max_side or height >= limits.max_side:
        msg = f"The image is {width}x{height} px; each side must be less than {limits.max_side} px."
        raise errors.ImageResolutionExceed(msg)
    if width <= limits.min_side or height <= limits.min_side:
        msg = f"The image is {width}x{height} px; each side must be more than {limits.min_side} px."
        raise errors.ParameterValueError(msg)


def probe(data: bytes, limits: DecodeLimits | None = None) -> tuple[str, int, int]:
    """(format, width, height) from the header alone; raises the contract's codes."""
    fmt = sniff_format(data)
    im = _open(data, fmt)
    with im:
        width, height = im.size
    _check_size(width, height, limits or DecodeLimits())
    _check_structure(data, fmt, limits or DecodeLimits())
    return fmt, width, height


def _decode(
    data: bytes,
    limits: DecodeLimits,
    draft_box: tuple[int, int] | None,
    convert: Callable[[Image.Image], np.ndarray],
) -> np.ndarray:
    fmt = sniff_format(data)
    im = _open(data, fmt)
    try:
        _check_size(*im.size, limits)
        _check_structure(data, fmt, limits)
        if fmt == "JPEG" and draft_box is not None and im.mode in ("RGB", "L", "CMYK", "YCbCr"):
            im.draft(im.mode, draft_box)
        try:
            im.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im.load()
            oriented = ImageOps.exif_transpose(im)
            return convert(oriented)
        except errors.TencentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            msg = "The image decompresses to too many pixels."
            raise errors.ImageResolutionExceed(msg) from None
        except MemoryError:
            msg = "The image could not be decoded within the memory budget."
            raise errors.ImageDecodeFailed(msg) from None
        except Exception:
            msg = f"The {fmt} image is truncated or corrupt."
            raise errors.ImageDecodeFailed(msg) from None
    finally:
        im.close()


def decode(
    data: bytes, limits: DecodeLimits | None = None, *, draft_box: tuple[int, int] | None = None
) -> np.ndarray:
    """Bytes → RGB uint8 H×W×3 (transparency composited on white).

    ``draft_box`` lets JPEG decode at a reduced scale that still covers that (width, height) box."""
    return _decode(data, limits or DecodeLimits(), draft_box, from_pil)


def decode_rgba(data: bytes, limits: DecodeLimits | None = None) -> np.ndarray:
    """Bytes → RGBA uint8 H×W×4, keeping the alpha channel (logos). Same allow-list and size checks."""
    return _decode(data, limits or DecodeLimits(), None, from_pil_rgba)
