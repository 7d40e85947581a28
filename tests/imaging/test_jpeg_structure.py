"""JPEG structure checks before decoding: scan bombs and mostly-missing data (issue 11 #2, #13)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from restyle import errors, imaging
from restyle.imaging import jpeg
from tests.conftest import encode, photo
from tests.hostile import media


def test_scan_bomb_is_refused_before_decoding() -> None:
    data = media.progressive_scan_bomb()
    t0 = time.perf_counter()
    with pytest.raises(errors.ImageDecodeFailed, match="scans"):
        imaging.probe(data)
    with pytest.raises(errors.ImageDecodeFailed, match="scans"):
        imaging.decode(data)
    assert time.perf_counter() - t0 < 1.0


def test_many_tiny_scans_stop_the_walk_early() -> None:
    """A file of thousands of scans is refused after counting past the limit, not after all of them."""
    data = media.progressive_scan_bomb(side=256, repeats=100_000)
    info = jpeg.read_structure(data, max_scans=jpeg.MAX_SCANS, max_scan_pixels=jpeg.MAX_SCAN_PIXELS)
    assert info.scans == jpeg.MAX_SCANS + 1
    with pytest.raises(errors.ImageDecodeFailed, match="more than 64 scans"):
        jpeg.check(data)


def test_scan_budget_scales_with_the_frame() -> None:
    assert jpeg.scan_limit(4992, 4992, 64, jpeg.MAX_SCAN_PIXELS) == 24
    assert jpeg.scan_limit(1000, 1000, 64, jpeg.MAX_SCAN_PIXELS) == 64


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
@pytest.mark.parametrize("progressive", [False, True])
def test_normal_files_pass(mode: str, progressive: bool) -> None:
    """Sequential and progressive files from libjpeg pass, down to a flat image that compresses to almost nothing."""
    for image in (
        Image.fromarray(photo("astronaut", (640, 480))).convert(mode),
        Image.new(mode, (3000, 2000)),
    ):
        buf = io.BytesIO()
        image.save(buf, "JPEG", progressive=progressive, quality=75, optimize=True)
        info = jpeg.check(buf.getvalue())
        assert info.complete and info.scans >= 1
        assert info.entropy_bytes >= info.min_entropy_bytes()
        imaging.decode(buf.getvalue())


def test_restart_markers_and_stuffed_bytes_stay_inside_the_scan() -> None:
    buf = io.BytesIO()
    Image.fromarray(photo("astronaut", (640, 480))).save(buf, "JPEG", quality=95, restart_marker_blocks=4)
    data = buf.getvalue()
    info = jpeg.check(data)
    assert info.scans == 1 and info.complete
    assert b"\xff\xd0" in data  # there are restart markers, and they did not end the scan
    assert info.entropy_bytes > len(data) // 2


def test_header_claiming_more_than_the_file_holds_is_decode_failed() -> None:
    """4990² claimed, ~2 KB of data: decoded before as a grey image, now ImageDecodeFailed."""
    data = media.jpeg_claiming_more_than_it_holds()
    assert len(data) < 4096
    with pytest.raises(errors.ImageDecodeFailed, match="truncated"):
        imaging.probe(data)
    with pytest.raises(errors.ImageDecodeFailed, match="truncated"):
        imaging.decode(data, draft_box=(1000, 1000))


def test_small_real_jpeg_passes_the_floor() -> None:
    data = encode(photo("astronaut", (64, 64)), quality=85)
    info = jpeg.check(data)
    assert info.width == 64 and info.entropy_bytes >= info.min_entropy_bytes()
