"""imaging.decode: the allow-list, every mode to RGB uint8, EXIF orientation, truncation, lying headers,
size limits, multi-frame files, JPEG draft decoding and re-encoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from restyle import errors, imaging
from restyle.pipeline.frame import draft_box
from tests.conftest import encode, photo
from tests.imaging import media

pytestmark = pytest.mark.restyle_only


def assert_rgb(img: np.ndarray, width: int, height: int) -> None:
    assert img.dtype == np.uint8
    assert img.shape == (height, width, 3)
    assert img.flags.c_contiguous


# --- formats ----------------------------------------------------------------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    ("fmt", "kw", "tolerance"),
    [
        ("JPEG", {"quality": 95}, 6.0),
        ("PNG", {}, 0.0),
        ("BMP", {}, 0.0),
        ("TIFF", {}, 0.0),
        ("TIFF", {"compression": "tiff_lzw"}, 0.0),
        ("WEBP", {"lossless": True}, 0.0),
        ("WEBP", {"quality": 90}, 6.0),
    ],
)
def test_allowed_formats_decode(fmt: str, kw: dict[str, object], tolerance: float) -> None:
    src = media.sample((120, 90))
    data = encode(src, fmt, **kw)
    assert imaging.sniff_format(data) == fmt
    assert imaging.probe(data) == (fmt, 120, 90)
    out = imaging.decode(data)
    assert_rgb(out, 120, 90)
    assert np.abs(out.astype(int) - src.astype(int)).mean() <= tolerance


# --- modes --------------------------------------------------------------------------------------------
def test_cmyk_jpeg_becomes_rgb() -> None:
    src = media.sample()
    out = imaging.decode(media.cmyk_jpeg(src))
    assert_rgb(out, 120, 90)
    assert np.abs(out.astype(int) - src.astype(int)).mean() < 8


def test_16bit_grey_png_is_scaled_not_clipped() -> None:
    src = media.sample()
    data = media.grey16(src)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = imaging.decode(data)
    assert_rgb(out, 120, 90)
    grey = np.asarray(Image.fromarray(src).convert("L")).astype(int)
    assert np.abs(out[:, :, 0].astype(int) - grey).max() <= 1
    assert (out[:, :, 0] == out[:, :, 1]).all()
    assert (out[:, :, 1] == out[:, :, 2]).all()


def test_palette_transparency_is_composited_on_white() -> None:
    src = media.sample()
    out = imaging.decode(media.palette_with_transparency(src))
    assert_rgb(out, 120, 90)
    assert (out[:, :30] == 255).all()
    assert np.abs(out[:, 40:].astype(int) - src[:, 40:].astype(int)).mean() < 12


@pytest.mark.parametrize("alpha", [0, 128])
def test_rgba_is_composited_on_white(alpha: int) -> None:
    src = media.sample()
    out = imaging.decode(media.rgba_png(src, alpha))
    assert_rgb(out, 120, 90)
    assert (out[:, :60] == src[:, :60]).all()
    expected = (src[:, 60:].astype(float) * alpha + 255 * (255 - alpha)) / 255
    assert np.abs(out[:, 60:] - expected).max() <= 1.5


def test_la_is_composited_on_white() -> None:
    out = imaging.decode(media.la_png(media.sample()))
    assert_rgb(out, 120, 90)
    assert (out[:, :40] == 255).all()
    assert (out[:, :, 0] == out[:, :, 2]).all()


@pytest.mark.parametrize("mode", ["L", "1", "P", "I", "F", "RGBX", "YCbCr"])
def test_every_mode_becomes_rgb(mode: str) -> None:
    im = Image.fromarray(media.sample()).convert(mode)
    fmt = "TIFF" if mode in ("I", "F", "YCbCr", "RGBX") else "PNG"
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    out = imaging.decode(buf.getvalue())
    assert_rgb(out, 120, 90)
    assert out.std() > 10  # the picture survived, not a flat field


def test_one_bit_is_black_and_white() -> None:
    src = media.sample()
    out = imaging.decode(media.save(Image.fromarray(src).convert("1"), "PNG"))
    assert set(np.unique(out)) <= {0, 255}


# --- EXIF orientation -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation: int, fmt: str) -> None:
    upright = media.quadrants(160, 100)
    data = media.with_orientation(upright, orientation, fmt)
    if fmt != "TIFF":  # (libtiff may already turn TIFF pixels when reading them)
        stored = Image.open(io.BytesIO(data)).size
        assert stored == ((100, 160) if orientation >= 5 else (160, 100))
    out = imaging.decode(data)
    assert_rgb(out, 160, 100)
    assert np.abs(media.quadrant_means(out) - media.quadrant_means(upright)).max() < 6


def test_orientation_helpers_agree() -> None:
    img = media.quadrants(16, 10)
    for n in range(1, 9):
        assert (media.UPRIGHT[n](media.STORED[n](img)) == img).all()


def test_exif_orientation_with_draft_still_covers_box() -> None:
    upright = photo("astronaut", (1600, 1200))
    data = media.with_orientation(upright, 6)
    _, w, h = imaging.probe(data)
    assert (w, h) == (1200, 1600)  # the header gives the stored (turned) size
    box = draft_box("768:768", w, h, 2000)
    out = imaging.decode(data, draft_box=box)
    assert out.shape[1] >= 768
    assert out.shape[0] >= 768
    assert out.shape[1] > out.shape[0]  # upright again: wide


# --- hostile inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
@pytest.mark.parametrize("fraction", [0.0005, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97])
def test_truncated_files_fail_to_decode(fmt: str, fraction: float) -> None:
    data = encode(media.sample((400, 300)), fmt)
    cut = data[: max(3, int(len(data) * fraction))]
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.decode(cut)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("gif", media.gif(media.sample())),
        ("psd", media.PSD_HEAD),
        ("svg", media.SVG),
        ("pdf", media.PDF),
        ("ico", media.save(Image.fromarray(media.sample((64, 64))), "ICO")),
        ("tga", media.save(Image.fromarray(media.sample()), "TGA")),
        ("empty", b""),
        ("text", b"hello, this is not an image at all"),
        ("html", b"<html><body>404</body></html>"),
        ("riff-wave", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32),
        ("bm-short", b"BM\x00\x00"),
    ],
)
def test_formats_outside_allow_list_fail(name: str, data: bytes) -> None:
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.decode(data)
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.probe(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP"])
def test_garbage_after_valid_magic_fails(fmt: str) -> None:
    magic = encode(media.sample((64, 64)), fmt)[:12]
    with pytest.raises(errors.ImageDecodeFailed):
        imaging.decode(magic + bytes(range(256)) * 8)


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(("width", "height"), [(5000, 60), (60, 5000), (9000, 9000), (65535, 65535)])
def test_header_too_large_is_refused_before_pixels(width: int, height: int) -> None:
    data = media.png_header_only(width, height)  # the pixel data could never decode
    with pytest.raises(errors.ImageResolutionExceed):
        imaging.probe(data)
    with pytest.raises(errors.ImageResolutionExceed):
        imaging.decode(data)


def test_largest_allowed_side_is_4999() -> None:
    data = encode(np.zeros((60, 4999, 3), np.uint8), "PNG")
    assert imaging.probe(data) == ("PNG", 4999, 60)
    assert imaging.decode(data).shape == (60, 4999, 3)


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(("width", "height"), [(50, 200), (200, 50), (50, 50), (10, 10), (1, 1)])
def test_side_of_50_px_or_less_is_refused(width: int, height: int) -> None:
    data = encode(media.sample((width, height)), "PNG")
    with pytest.raises(errors.ParameterValueError):
        imaging.probe(data)
    with pytest.raises(errors.ParameterValueError):
        imaging.decode(data)


def test_51_px_is_accepted() -> None:
    assert imaging.decode(encode(media.sample((51, 51)), "PNG")).shape == (51, 51, 3)


def test_limits_are_configurable() -> None:
    data = encode(media.sample((300, 200)), "PNG")
    with pytest.raises(errors.ImageResolutionExceed):
        imaging.decode(data, imaging.DecodeLimits(max_side=300))
    with pytest.raises(errors.ParameterValueError):
        imaging.decode(data, imaging.DecodeLimits(min_side=200))


# --- multi-frame ------------------------------------------------------------------------------------
def test_multi_frame_tiff_gives_first_frame() -> None:
    a, b = media.sample(), photo("astronaut", (120, 90))
    data = media.multi_frame("TIFF", [a, b])
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    assert (imaging.decode(data) == a).all()


def test_animated_webp_gives_first_frame() -> None:
    a, b = media.sample(), photo("astronaut", (120, 90))
    data = media.multi_frame("WEBP", [a, b, a], lossless=True, duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    assert (imaging.decode(data) == a).all()


# --- draft decoding -------------------------------------------------------------------------------------
@pytest.mark.parametrize("box", [(768, 768), (1000, 600), (500, 375), (100, 80), (1999, 1499)])
def test_jpeg_draft_covers_requested_box(box: tuple[int, int]) -> None:
    data = encode(photo("astronaut", (4000, 3000)), "JPEG", quality=85)
    out = imaging.decode(data, draft_box=box)
    assert out.shape[1] >= box[0]
    assert out.shape[0] >= box[1]
    assert out.shape[1] / out.shape[0] == pytest.approx(4 / 3, rel=0.01)


def test_jpeg_draft_actually_reduces() -> None:
    data = encode(photo("astronaut", (4000, 3000)), "JPEG", quality=85)
    assert imaging.decode(data, draft_box=(500, 375)).shape[:2] == (375, 500)


def test_draft_is_ignored_for_other_formats() -> None:
    data = encode(media.sample((400, 300)), "PNG")
    assert imaging.decode(data, draft_box=(100, 75)).shape == (300, 400, 3)


# --- encoding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("quality", [75, 90, 95])
def test_output_is_re_encoded(quality: int) -> None:
    data = encode(media.sample((200, 150)), "JPEG", quality=quality)
    out = imaging.encode_jpeg(imaging.decode(data), quality=quality)
    assert out != data
    assert out.startswith(b"\xff\xd8\xff")
    assert b"Generated by AI" in out  # the provenance comment
    again = Image.open(io.BytesIO(out))
    assert again.format == "JPEG"
    assert again.mode == "RGB"
    assert again.size == (200, 150)


def test_png_encoding_round_trips() -> None:
    src = media.sample()
    assert (imaging.decode(imaging.encode_png(src)) == src).all()
