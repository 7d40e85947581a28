"""Logos: decode_rgba keeps alpha (same allow-list and limits as decode); paste_rgba stretches an RGBA
overlay into a box with premultiplied alpha; the small compositing helpers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from restyle import errors, imaging
from tests.conftest import encode
from tests.imaging import media

pytestmark = pytest.mark.restyle_only
LOGO_LIMITS = imaging.DecodeLimits(min_side=0)


def disk_logo(size: int = 64, colour: tuple[int, int, int] = (200, 20, 20)) -> np.ndarray:
    """RGBA: an opaque disk on a fully transparent (white-coloured) background."""
    yy, xx = np.mgrid[0:size, 0:size]
    inside = (xx - size / 2 + 0.5) ** 2 + (yy - size / 2 + 0.5) ** 2 <= (size * 0.3) ** 2
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[inside] = (*colour, 255)
    return rgba


def test_decode_rgba_keeps_alpha() -> None:
    logo = disk_logo()
    out = imaging.decode_rgba(encode(logo, "PNG"), LOGO_LIMITS)
    assert out.dtype == np.uint8
    assert out.shape == (64, 64, 4)
    assert (out == logo).all()


@pytest.mark.parametrize("fmt", ["JPEG", "BMP", "TIFF", "WEBP", "PNG"])
def test_decode_rgba_of_opaque_image_is_opaque(fmt: str) -> None:
    out = imaging.decode_rgba(encode(media.sample(), fmt), LOGO_LIMITS)
    assert out.shape == (90, 120, 4)
    assert (out[..., 3] == 255).all()


def test_decode_rgba_palette_transparency() -> None:
    out = imaging.decode_rgba(media.palette_with_transparency(media.sample()), LOGO_LIMITS)
    assert (out[:, :30, 3] == 0).all()
    assert (out[:, 40:, 3] == 255).all()


def test_decode_rgba_la_and_webp_alpha() -> None:
    la = imaging.decode_rgba(media.la_png(media.sample()), LOGO_LIMITS)
    assert (la[:, :40, 3] == 0).all()
    assert (la[..., 0] == la[..., 1]).all()
    webp = imaging.decode_rgba(encode(disk_logo(), "WEBP", lossless=True), LOGO_LIMITS)
    assert (webp[..., 3] == disk_logo()[..., 3]).all()


def test_decode_rgba_16bit_rgba_png() -> None:
    rgba16 = (disk_logo().astype(np.uint16) * 257).astype(">u2")
    import io
    import struct
    import zlib

    rows = b"".join(b"\x00" + row.tobytes() for row in rgba16)
    ihdr = struct.pack(">IIBBBBB", 64, 64, 16, 6, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n" + media.png_chunk(b"IHDR", ihdr) + media.png_chunk(b"IDAT", zlib.compress(rows))
    )
    data += media.png_chunk(b"IEND", b"")
    assert Image.open(io.BytesIO(data)).size == (64, 64)
    out = imaging.decode_rgba(data, LOGO_LIMITS)
    assert np.abs(out.astype(int) - disk_logo().astype(int)).max() <= 1


def test_decode_rgba_applies_the_same_checks() -> None:
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.decode_rgba(media.gif(media.sample()), LOGO_LIMITS)
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.decode_rgba(encode(disk_logo(), "PNG")[:200], LOGO_LIMITS)
    with pytest.raises(errors.ImageResolutionExceed):
        imaging.decode_rgba(media.png_header_only(5000, 60), LOGO_LIMITS)
    with pytest.raises(errors.ParameterValueError):
        imaging.decode_rgba(encode(disk_logo(40), "PNG"))  # default limits keep the 50 px floor


def test_decode_rgba_applies_orientation() -> None:
    data = media.with_orientation(media.quadrants(160, 100), 8, "PNG")
    out = imaging.decode_rgba(data, LOGO_LIMITS)
    assert out.shape == (100, 160, 4)
    assert np.abs(media.quadrant_means(out[..., :3]) - media.quadrant_means(media.quadrants())).max() < 2


# --- paste_rgba -------------------------------------------------------------------------------------
def test_paste_opaque_is_exact_and_stretched() -> None:
    base = media.sample((200, 150))
    logo = np.zeros((10, 40, 3), np.uint8)
    logo[:, :20] = (255, 0, 0)
    logo[:, 20:] = (0, 0, 255)
    out = imaging.paste_rgba(base, logo, 30, 20, 60, 90)  # 40x10 → 60x90: stretched, not fitted
    assert out is not base
    region = out[20:110, 30:90]
    assert (region[:, :24] == (255, 0, 0)).all()  # (resampling softens only the colour edge)
    assert (region[:, 36:] == (0, 0, 255)).all()
    outside = np.ones(base.shape[:2], bool)
    outside[20:110, 30:90] = False
    assert (out[outside] == base[outside]).all()


def test_paste_transparent_background_composites() -> None:
    base = np.full((100, 100, 3), (10, 120, 30), np.uint8)
    out = imaging.paste_rgba(base, disk_logo(64), 18, 18, 64, 64)
    assert (out[18:24, 18:24] == base[18:24, 18:24]).all()  # transparent corner: no white box
    assert (out[50, 50] == (200, 20, 20)).all()
    # no dark fringe: edge pixels lie between the disk colour and the background
    row = out[50, 18:82].astype(int)
    assert (row[:, 1] >= 20 - 1).all()
    assert (row[:, 1] <= 120 + 1).all()


def test_paste_semi_transparent_blends() -> None:
    base = np.full((60, 60, 3), 200, np.uint8)
    logo = np.zeros((4, 4, 4), np.uint8)
    logo[..., 3] = 128
    out = imaging.paste_rgba(base, logo, 10, 10, 40, 40)
    assert np.abs(out[20:40, 20:40].astype(int) - round(200 * (1 - 128 / 255))).max() <= 1


def test_paste_scaled_transparency_has_no_halo() -> None:
    """Transparent pixels carry white colour; premultiplied resizing must not smear it into the disk."""
    base = np.zeros((300, 300, 3), np.uint8)
    out = imaging.paste_rgba(base, disk_logo(32, (0, 0, 0)), 0, 0, 300, 300)
    assert out.max() <= 1


def test_over_colour_and_rounded_rect() -> None:
    base = np.full((10, 20, 3), 100, np.uint8)
    alpha = np.zeros((10, 20), np.float32)
    alpha[:, 10:] = 0.5
    out = imaging.over_colour(base, (0, 0, 0), alpha)
    assert (out[:, :10] == 100).all()
    assert (out[:, 10:] == 50).all()
    rr = imaging.rounded_rect_alpha(40, 20, radius=8)
    assert rr.shape == (20, 40)
    assert rr[10, 20] == 1.0
    assert rr[0, 0] == 0.0
    assert 0.0 < rr[0, 4] < 1.0 or rr[1, 3] < 1.0  # anti-aliased corner
    assert imaging.rounded_rect_alpha(40, 20, radius=0).min() == 1.0
