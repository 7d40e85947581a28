"""Contract §10, the input image rows: empty, base64, sizes, formats, dimensions (through the SDK)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.conftest import b64
from tests.wire import sdk
from tests.wire.media import blank_png, jpeg, jpeg_b64, result_jpeg
from tests.wire.sdk import Target

MiB = 1024 * 1024


def _code(wire: Target, params: dict[str, object]) -> str:
    return str(sdk.expect_error(sdk.client(wire), params).get_code())


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    "params",
    [{}, {"InputImage": ""}, {"InputUrl": ""}, {"InputImage": "", "InputUrl": ""}, {"Styles": ["201"]}],
    ids=["nothing", "empty-image", "empty-url", "both-empty", "styles-only"],
)
def test_no_image_is_image_empty(wire: Target, params: dict[str, object]) -> None:
    assert _code(wire, params) == "InvalidParameterValue.ImageEmpty"


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    "text",
    ["%%% not base64 %%%", "QUJD!", "写真", "data:image/png;base64,@@@@"],
    ids=["symbols", "bang", "non-ascii", "data-url-garbage"],
)
def test_invalid_base64_is_decode_failed(wire: Target, text: str) -> None:
    assert _code(wire, {"InputImage": text}) == "FailedOperation.ImageDecodeFailed"


@pytest.mark.restyle_only
def test_base64_variants_clients_send_are_accepted(wire: Target) -> None:
    """A data: prefix, line breaks, the URL-safe alphabet and missing padding still decode."""
    raw = jpeg_b64(96, 80)
    wrapped = "\n".join(raw[i : i + 76] for i in range(0, len(raw), 76))
    for text in (
        f"data:image/jpeg;base64,{raw}",
        wrapped,
        raw.replace("+", "-").replace("/", "_").rstrip("="),
    ):
        resp = sdk.call(sdk.client(wire), {"InputImage": text, "LogoAdd": 0})
        assert result_jpeg(resp.ResultImage).size == (96, 80)


@pytest.mark.derived_from_docs
def test_base64_of_8_mib_is_size_exceed(wire: Target) -> None:
    assert _code(wire, {"InputImage": "A" * (8 * MiB)}) == "FailedOperation.ImageSizeExceed"


@pytest.mark.restyle_only
def test_base64_just_under_8_mib_is_decoded(wire: Target) -> None:
    """One step below the limit the text is decoded: 6 MiB of zero bytes is not an image."""
    assert _code(wire, {"InputImage": "A" * (8 * MiB - 4)}) == "FailedOperation.ImageDecodeFailed"


@pytest.mark.derived_from_docs
def test_body_over_10_mib_is_entity_too_large(wire: Target) -> None:
    """The SDK can send it: a JSON body of 10 MiB + 1 KiB."""
    assert _code(wire, {"InputImage": "A" * (10 * MiB + 1024)}) == "FailedOperation.RequestEntityTooLarge"


@pytest.mark.derived_from_docs
def test_body_over_10_mib_raw_reply(wire: Target) -> None:
    resp = sdk.raw_post(wire, b'{"InputImage": "' + b"A" * (10 * MiB + 10) + b'"}')
    assert sdk.reply_error(resp)[0] == "FailedOperation.RequestEntityTooLarge"


def _truncated_jpeg() -> bytes:
    data = jpeg(256, 256)
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    data = bytearray(blank_png(120, 120))
    data[40:60] = b"\x00" * 20  # inside IDAT: the zlib stream and CRC no longer match
    return bytes(data)


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 10, 10)).save(buf, format="GIF")
    return buf.getvalue()


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    "data",
    [
        b"this is plain text, not an image at all",
        b"\xff\xd8\xff" + b"\x00" * 64,
        _truncated_jpeg(),
        _corrupt_png(),
        _gif(),
        b"<svg xmlns='http://www.w3.org/2000/svg' width='100' height='100'/>",
    ],
    ids=["text", "jpeg-magic-only", "truncated-jpeg", "corrupt-png", "gif", "svg"],
)
def test_bytes_that_are_not_an_allowed_image_are_decode_failed(wire: Target, data: bytes) -> None:
    assert _code(wire, {"InputImage": b64(data)}) == "FailedOperation.ImageDecodeFailed"


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_documented_formats_are_accepted(wire: Target, fmt: str) -> None:
    buf = io.BytesIO()
    Image.open(io.BytesIO(jpeg(120, 90))).save(buf, format=fmt)
    resp = sdk.call(sdk.client(wire), {"InputImage": b64(buf.getvalue()), "LogoAdd": 0})
    assert result_jpeg(resp.ResultImage).size == (120, 90)


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("size", [(5000, 100), (100, 5000), (5000, 5000), (9000, 60)])
def test_side_of_5000_or_more_is_resolution_exceed(wire: Target, size: tuple[int, int]) -> None:
    data = blank_png(*size)
    assert len(data) < 200_000  # judged from the header, cheap to send
    assert _code(wire, {"InputImage": b64(data)}) == "FailedOperation.ImageResolutionExceed"


@pytest.mark.derived_from_docs
def test_side_of_4999_is_accepted(wire: Target) -> None:
    resp = sdk.call(sdk.client(wire), {"InputImage": b64(blank_png(4999, 60)), "LogoAdd": 0})
    assert result_jpeg(resp.ResultImage).size == (2000, 24)


@pytest.mark.restyle_only
@pytest.mark.parametrize("size", [(50, 200), (200, 50), (1, 1), (50, 50)])
def test_side_of_50_or_less_is_parameter_value_error(wire: Target, size: tuple[int, int]) -> None:
    assert _code(wire, {"InputImage": b64(blank_png(*size))}) == "InvalidParameterValue.ParameterValueError"


@pytest.mark.restyle_only
def test_chunked_body_over_10_mib_is_entity_too_large(wire: Target) -> None:
    """No Content-Length to trust: the limit is enforced while reading."""
    body = b'{"InputImage": "' + b"A" * (11 * MiB) + b'"}'
    headers = sdk.signed_headers(wire, body)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    sdk.pace(wire.secret_id)
    with httpx.Client(trust_env=False, timeout=30) as http:
        resp = http.post(f"{wire.url}/", content=chunks(), headers=headers)
    assert "content-length" not in resp.request.headers
    assert sdk.reply_error(resp)[0] == "FailedOperation.RequestEntityTooLarge"


@pytest.mark.restyle_only
def test_body_of_exactly_10_mib_is_read(wire: Target) -> None:
    """10 MiB is not *over* the limit: the body is parsed, and its 10 MiB image is too large."""
    prefix, suffix = b'{"InputImage": "', b'"}'
    body = prefix + b"A" * (10 * MiB - len(prefix) - len(suffix)) + suffix
    assert len(body) == 10 * MiB
    assert sdk.reply_error(sdk.raw_post(wire, body))[0] == "FailedOperation.ImageSizeExceed"
