"""Hostile image bytes through a real server: each attack answers its code promptly, and the server
serves a normal call afterwards.

Already covered elsewhere (not repeated here): tests/wire/test_image_errors.py (text, JPEG magic only,
truncated JPEG, corrupt PNG, GIF and SVG as base64; sides of 5000/9000 px; base64 of 8 MiB and
8 MiB - 4; body over and exactly 10 MiB, chunked; the base64 variants a data: prefix, line breaks,
URL-safe alphabet and missing padding) and tests/imaging/test_decode.py (every mode, truncation at
several cut points, formats outside the allow-list, multi-frame files) in-process.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from tests.conftest import Server
from tests.hostile import media
from tests.hostile.conftest import Reply, assert_serves, call
from tests.imaging.media import PDF, PSD_HEAD

DECODE_FAILED = "FailedOperation.ImageDecodeFailed"
RESOLUTION = "FailedOperation.ImageResolutionExceed"
SIZE_EXCEED = "FailedOperation.ImageSizeExceed"
PROMPT_S = 5.0  # far under the 20 s job budget of the hostile server


def send(server: Server, data: bytes, **extra: object) -> Reply:
    return call(server, {"InputImage": base64.b64encode(data).decode(), "LogoAdd": 0, **extra})


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (media.huge_header_png, RESOLUTION),
        (media.huge_header_jpeg, RESOLUTION),
        (media.huge_header_bmp, RESOLUTION),
        (media.huge_header_webp, RESOLUTION),
        (lambda: media.truncated("PNG"), DECODE_FAILED),
        (lambda: media.truncated("WEBP"), DECODE_FAILED),
        (lambda: media.truncated("TIFF"), DECODE_FAILED),
        (lambda: media.truncated("BMP"), DECODE_FAILED),
        (lambda: media.random_bytes(1), DECODE_FAILED),
        (lambda: b"\x89PNG\r\n\x1a\n" + media.random_bytes(2), DECODE_FAILED),
        (lambda: b"II*\x00" + media.random_bytes(3), DECODE_FAILED),
        (lambda: b"RIFF\x00\x10\x00\x00WEBP" + media.random_bytes(4), DECODE_FAILED),
        (lambda: PSD_HEAD, DECODE_FAILED),
        (lambda: PDF, DECODE_FAILED),
        (media.jpeg_claiming_more_than_it_holds, DECODE_FAILED),
        (media.progressive_scan_bomb, DECODE_FAILED),
    ],
    ids=[
        "png-100000x100000-header",
        "jpeg-65000x65000-header",
        "bmp-60000x60000-header",
        "webp-16383x16383-canvas",
        "truncated-png",
        "truncated-webp",
        "truncated-tiff",
        "truncated-bmp",
        "random-bytes",
        "png-magic-then-random",
        "tiff-magic-then-random",
        "webp-magic-then-random",
        "psd",
        "pdf",
        "jpeg-4990x4990-header-2KB-data",
        "progressive-jpeg-8000-scans",
    ],
)
def test_refused_promptly(hostile: Server, make: Callable[[], bytes], code: str) -> None:
    data = make()
    assert len(data) < 2 * media.MiB  # a tiny body: the header alone decides
    reply = send(hostile, data)
    assert reply.code == code, reply
    assert reply.seconds < PROMPT_S
    assert_serves(hostile)


def test_scan_bombs_do_not_delay_other_callers(hostile: Server) -> None:
    """Two 8000-scan progressive JPEGs (both compute slots, ~2 min before the fix) while another
    caller's normal call runs: the bombs are refused within seconds and the other call is served."""
    bomb = media.progressive_scan_bomb()
    with ThreadPoolExecutor(2) as pool:
        bombs = [pool.submit(send, hostile, bomb) for _ in range(2)]
        t0 = time.monotonic()
        assert_serves(hostile)
        served_s = time.monotonic() - t0
        replies = [f.result(timeout=60) for f in bombs]
    assert [r.code for r in replies] == [DECODE_FAILED, DECODE_FAILED], replies
    assert all(r.seconds < PROMPT_S for r in replies), [r.seconds for r in replies]
    assert served_s < PROMPT_S


def test_zlib_bomb_inside_the_limits_decodes_within_memory(hostile: Server) -> None:
    """73 KB of IDAT → 4999×4999 RGB (75 MB): a legal image, decoded and answered well in budget."""
    data = media.zlib_bomb_png()
    assert len(data) < 100_000
    reply = send(hostile, data)
    assert reply.code == "OK", reply
    assert Image.open(io.BytesIO(reply.result)).size == (2000, 2000)  # origin: long side capped
    assert reply.seconds < 15
    assert_serves(hostile)


def test_zlib_stream_longer_than_the_image_is_not_inflated_past_it(hostile: Server) -> None:
    """100×100 declared, 256 MiB of zeros in the IDAT: only what the image needs is inflated."""
    reply = send(hostile, media.zlib_bomb_overflow_png())
    assert reply.code in ("OK", DECODE_FAILED), reply
    assert reply.seconds < PROMPT_S
    assert_serves(hostile)


@pytest.mark.parametrize(
    "name", ["svg", "pdf", "gif", "psd"], ids=["svg-as-jpg", "pdf-as-jpg", "gif-as-jpg", "psd-as-jpg"]
)
def test_other_formats_named_jpg_via_url(hostile: Server, images: object, name: str) -> None:
    """Served as /x.jpg with Content-Type image/jpeg: the content decides, and it is not allowed."""
    data = {"svg": media.SVG, "pdf": PDF, "gif": media.gif(), "psd": PSD_HEAD}[name]
    url = images.add(f"/renamed/{name}.jpg", data, headers={"Content-Type": "image/jpeg"})  # type: ignore[attr-defined]
    reply = call(hostile, {"InputUrl": url})
    assert reply.code == DECODE_FAILED, reply
    assert reply.seconds < PROMPT_S


@pytest.mark.parametrize(
    "make",
    [
        lambda: media.polyglot_zip(media.SMALL_JPEG),
        lambda: media.polyglot_html(media.SMALL_JPEG),
        lambda: media.polyglot_zip(media.encode_png()),
        media.jpeg_with_comment_payload,
    ],
    ids=["jpeg+zip", "jpeg+html", "png+zip", "jpeg-com-app1-payload"],
)
def test_polyglot_is_re_encoded_without_its_payload(hostile: Server, make: Callable[[], bytes]) -> None:
    data = make()
    assert media.MARKER in data
    reply = send(hostile, data)
    assert reply.code == "OK", reply
    out = reply.result
    assert media.MARKER not in out
    assert b"PK\x03\x04" not in out and b"<script" not in out
    Image.open(io.BytesIO(out)).verify()


@pytest.mark.parametrize(
    ("make", "size"),
    [(lambda: media.tiff_pages(1000), (64, 64)), (lambda: media.webp_frames(300), (96, 96))],
    ids=["thousand-page-tiff", "animated-webp-300-frames"],
)
def test_many_frames_give_the_first_one_fast(
    hostile: Server, make: Callable[[], bytes], size: tuple[int, int]
) -> None:
    """A thousand-page TIFF or an animated WebP with many frames: only the first is decoded, promptly."""
    reply = send(hostile, make())
    assert reply.code == "OK", reply
    assert Image.open(io.BytesIO(reply.result)).size == size
    assert reply.seconds < PROMPT_S


@pytest.mark.parametrize(
    "make",
    [media.cmyk_jpeg, media.png16, media.rgb48_png, media.palette_png, media.tiff16],
    ids=["cmyk-jpeg", "grey16-png", "rgb48-png", "palette-png-transparent", "grey16-tiff"],
)
def test_unusual_modes_are_styled(hostile: Server, make: Callable[[], bytes]) -> None:
    reply = send(hostile, make(), Styles=["132"])
    assert reply.code == "OK", reply
    out = np.asarray(Image.open(io.BytesIO(reply.result)).convert("RGB"))
    assert out.shape == (90, 120, 3)
    assert 10 < out.mean() < 250  # not a black or white page: the pixels were understood


@pytest.mark.parametrize(
    ("length", "code"),
    [(8 * media.MiB - 1, DECODE_FAILED), (8 * media.MiB, SIZE_EXCEED), (8 * media.MiB + 1, SIZE_EXCEED)],
    ids=["8MiB-1", "8MiB", "8MiB+1"],
)
def test_base64_length_boundary(hostile: Server, length: int, code: str) -> None:
    """Under 8 MiB of base64 is decoded (zeros are not an image); 8 MiB and more is refused unread."""
    reply = call(hostile, {"InputImage": "A" * length})
    assert reply.code == code, reply
    assert reply.seconds < PROMPT_S


def test_base64_variants_combined(hostile: Server) -> None:
    """data: prefix + CRLF/tab wrapping + URL-safe alphabet + no padding, all in one text.

    (Each variant alone: tests/wire/test_image_errors.py::test_base64_variants_clients_send_are_accepted.)"""
    raw = base64.urlsafe_b64encode(media.SMALL_JPEG).decode().rstrip("=")
    wrapped = "\r\n\t".join(raw[i : i + 60] for i in range(0, len(raw), 60))
    reply = call(hostile, {"InputImage": f"data:image/jpeg;base64,{wrapped}", "LogoAdd": 0})
    assert reply.code == "OK", reply
