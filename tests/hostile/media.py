"""Hostile inputs, each made here, offline, in a few milliseconds to a few seconds."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

from tests.conftest import encode, photo
from tests.imaging.media import grey16, png_chunk, sample

MiB = 1024 * 1024
MARKER = b"RESTYLE-POLYGLOT-PAYLOAD-7f3a"  # must never appear in a result


def png(width: int, height: int, idat: bytes, *, color_type: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def _deflate_zeros(n: int, level: int = 9) -> bytes:
    """zlib stream of ``n`` zero bytes, built without holding them all in memory."""
    comp = zlib.compressobj(level)
    block = b"\x00" * MiB
    out = [comp.compress(block) for _ in range(n // MiB)]
    out.append(comp.compress(b"\x00" * (n % MiB)))
    out.append(comp.flush())
    return b"".join(out)


@functools.cache
def huge_header_png(side: int = 100_000) -> bytes:
    """IHDR says side×side; the IDAT holds a few bytes."""
    return png(side, side, zlib.compress(b"\x00" * 64))


@functools.cache
def zlib_bomb_png() -> bytes:
    """4999×4999 RGB (inside the limits): ~75 MB of pixels from ~73 KB of IDAT, a valid black image."""
    w = h = 4999
    return png(w, h, _deflate_zeros((w * 3 + 1) * h))


@functools.cache
def zlib_bomb_overflow_png() -> bytes:
    """100×100 declared, but the IDAT inflates to 256 MiB: the decoder must stop at what it needs."""
    return png(100, 100, _deflate_zeros(256 * MiB))


def huge_header_jpeg(side: int = 65_000) -> bytes:
    """A real small JPEG whose SOF0 frame header is rewritten to side×side."""
    data = bytearray(encode(photo("coffee", (64, 64))))
    i = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, side, side)
    return bytes(data)


def huge_header_bmp() -> bytes:
    data = bytearray(encode(photo("coffee", (64, 64)), "BMP"))
    struct.pack_into("<ii", data, 18, 60_000, 60_000)
    return bytes(data)


def huge_header_webp() -> bytes:
    """VP8X canvas of 16383×16383 (the format's maximum) around a small frame."""
    frame = encode(photo("coffee", (64, 64)), "WEBP", lossless=True)
    vp8l = frame[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16382).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def truncated(fmt: str, fraction: float = 0.5) -> bytes:
    kw: dict[str, object] = {"quality": 90} if fmt == "JPEG" else {}
    data = encode(photo("coffee", (200, 150)), fmt, **kw)
    return data[: int(len(data) * fraction)]


def random_bytes(seed: int, n: int = 4096) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="120" height="90"><script>alert(1)</script><rect width="120" height="90"/></svg>'


def gif() -> bytes:
    return encode(photo("coffee", (120, 90)), "GIF")


def polyglot_zip(base: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.txt", MARKER * 4)
        zf.writestr("run.sh", b"#!/bin/sh\necho " + MARKER + b"\n")
    return base + buf.getvalue()


def polyglot_html(base: bytes) -> bytes:
    return base + b"<html><script>/*" + MARKER + b"*/alert(document.cookie)</script></html>"


def jpeg_with_comment_payload() -> bytes:
    """The payload inside the JPEG itself: a COM segment and an APP1 segment."""
    data = encode(photo("coffee", (160, 120)), quality=90)
    com = b"\xff\xfe" + struct.pack(">H", len(MARKER) + 2) + MARKER
    app = b"\xff\xe1" + struct.pack(">H", len(MARKER) + 8) + b"Exif\x00\x00" + MARKER
    return data[:2] + com + app + data[2:]


@functools.cache
def tiff_pages(n: int = 1000) -> bytes:
    pages = [Image.fromarray(np.full((64, 64, 3), (i * 7) % 256, np.uint8)) for i in range(n)]
    pages[0] = Image.fromarray(photo("coffee", (64, 64)))
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buf.getvalue()


@functools.cache
def webp_frames(n: int = 300) -> bytes:
    rng = np.random.default_rng(1)
    frames = [Image.fromarray(photo("coffee", (96, 96)))]
    frames += [Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)) for _ in range(n - 1)]
    buf = io.BytesIO()
    frames[0].save(buf, format="WEBP", save_all=True, append_images=frames[1:], duration=10, quality=30)
    return buf.getvalue()


def cmyk_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo("coffee", (120, 90))).convert("CMYK").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def png16() -> bytes:
    return grey16(sample(), "PNG")


def rgb48_png() -> bytes:
    """16 bits per channel RGB, written by hand (Pillow cannot write it)."""
    img = photo("coffee", (120, 90)).astype(">u2") * 257
    raw = b"".join(b"\x00" + row.tobytes() for row in img)
    ihdr = struct.pack(">IIBBBBB", 120, 90, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def palette_png() -> bytes:
    pal = Image.fromarray(photo("coffee", (120, 90))).quantize(32)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", transparency=0)
    return buf.getvalue()


def tiff16() -> bytes:
    return grey16(sample(), "TIFF")


def gzip_bomb(n: int = 256 * MiB) -> bytes:
    """gzip member of ``n`` zero bytes (~n/1000 bytes on the wire)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\x00" * MiB
    out = [comp.compress(block) for _ in range(n // MiB)]
    out.append(comp.flush())
    return b"".join(out)


SMALL_JPEG = encode(photo("coffee", (120, 90)), quality=90)


def encode_png() -> bytes:
    return encode(photo("coffee", (120, 90)), "PNG")


def _segments_end(data: bytes) -> int:
    """Index of the EOI marker of a well-formed JPEG (Pillow ends its files with it)."""
    assert data.endswith(b"\xff\xd9")
    return len(data) - 2


def _last_scan(data: bytes) -> bytes:
    """The last SOS segment of a JPEG, header and entropy-coded data, up to the EOI."""
    start = data.rfind(b"\xff\xda")
    assert start > 0
    return data[start : _segments_end(data)]


@functools.cache
def progressive_scan_bomb(side: int = 4992, repeats: int = 8000) -> bytes:
    """A grey progressive JPEG whose last (AC refinement) scan is repeated ``repeats`` times.

    A valid file that libjpeg decodes scan by scan: ~15 ms per repeat at 4992², inside one call."""
    buf = io.BytesIO()
    Image.new("L", (side, side), 128).save(buf, "JPEG", progressive=True, quality=75)
    data = buf.getvalue()
    scan = _last_scan(data)
    return data[: _segments_end(data)] + scan * repeats + b"\xff\xd9"


@functools.cache
def jpeg_claiming_more_than_it_holds(side: int = 4990) -> bytes:
    """A small real JPEG (~2 KB) whose frame header is rewritten to claim ``side``×``side``."""
    data = encode(photo("astronaut", (64, 64)), quality=85)
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    dims = struct.pack(">HH", side, side)
    return data[: sof + 5] + dims + data[sof + 9 :]
