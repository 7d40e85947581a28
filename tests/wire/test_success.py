"""Success paths through the official SDK: base64 and url results, sizes, InputUrl, result links."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from restyle import keyfile
from restyle.storages import LinkSigner
from tests.wire import sdk
from tests.wire.conftest import ImageHost
from tests.wire.media import jpeg, jpeg_b64, open_jpeg, result_jpeg
from tests.wire.sdk import Target

pytestmark = pytest.mark.derived_from_docs


@pytest.mark.parametrize(
    ("resolution", "size"),
    [("768:768", (768, 768)), ("768:1024", (768, 1024)), ("1024:768", (1024, 768))],
)
def test_base64_result_has_the_requested_size(wire: Target, resolution: str, size: tuple[int, int]) -> None:
    resp = sdk.call(
        sdk.client(wire),
        {"InputImage": jpeg_b64(256, 192), "Styles": ["201"], "ResultConfig": {"Resolution": resolution}},
    )
    uuid.UUID(resp.RequestId)
    assert result_jpeg(resp.ResultImage).size == size


def test_origin_caps_the_long_side_at_2000(wire: Target) -> None:
    resp = sdk.call(
        sdk.client(wire), {"InputImage": jpeg_b64(3000, 1000), "ResultConfig": {"Resolution": "origin"}}
    )
    assert result_jpeg(resp.ResultImage).size == (2000, 667)


def test_origin_is_the_default_and_keeps_a_small_input(wire: Target) -> None:
    resp = sdk.call(sdk.client(wire), {"InputImage": jpeg_b64(320, 240)})
    assert result_jpeg(resp.ResultImage).size == (320, 240)


def test_all_optional_fields_accepted(wire: Target) -> None:
    params = {
        "InputImage": jpeg_b64(192, 192),
        "Prompt": "一个女孩, 日系动漫",
        "NegativePrompt": "模糊",
        "Styles": ["201"],
        "ResultConfig": {"Resolution": "768:768"},
        "LogoAdd": 0,
        "Strength": 0.6,
        "RspImgType": "base64",
        "EnhanceImage": 1,
        "RestoreFace": 2,
    }
    assert result_jpeg(sdk.call(sdk.client(wire), params).ResultImage).size == (768, 768)


def test_side_of_51_px_is_accepted(wire: Target) -> None:
    resp = sdk.call(sdk.client(wire), {"InputImage": jpeg_b64(51, 51)})
    assert result_jpeg(resp.ResultImage).size == (51, 51)


def test_input_url_from_a_loopback_host(wire: Target, images: ImageHost) -> None:
    url = images.add("/success/astronaut.jpg", jpeg(256, 256), headers={"Content-Type": "image/jpeg"})
    resp = sdk.call(sdk.client(wire), {"InputUrl": url, "ResultConfig": {"Resolution": "768:1024"}})
    assert result_jpeg(resp.ResultImage).size == (768, 1024)
    assert "/success/astronaut.jpg" in images.hits


def test_url_wins_over_an_invalid_input_image(wire: Target, images: ImageHost) -> None:
    url = images.add("/success/wins.jpg", jpeg(200, 100))
    resp = sdk.call(sdk.client(wire), {"InputUrl": url, "InputImage": "%%% not base64 %%%"})
    assert result_jpeg(resp.ResultImage).size == (200, 100)


def test_url_wins_over_a_valid_input_image(wire: Target, images: ImageHost) -> None:
    url = images.add("/success/wins-size.jpg", jpeg(300, 150))
    resp = sdk.call(sdk.client(wire), {"InputUrl": url, "InputImage": jpeg_b64(120, 240)})
    assert result_jpeg(resp.ResultImage).size == (300, 150)


def _fetch(url: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=10) as http:
        return http.get(url)


def test_url_result_is_a_downloadable_jpeg_and_tampering_fails(wire: Target) -> None:
    resp = sdk.call(
        sdk.client(wire),
        {"InputImage": jpeg_b64(256, 256), "ResultConfig": {"Resolution": "768:768"}, "RspImgType": "url"},
    )
    link = resp.ResultImage
    parts = urlsplit(link)
    assert parts.scheme == "http"
    assert parts.netloc == f"127.0.0.1:{wire.port}"  # from the Host the SDK sent
    got = _fetch(link)  # anyone holding the link may GET it, unsigned
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert open_jpeg(got.content).size == (768, 768)

    sig = parse_qs(parts.query)["Signature"][0]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert _fetch(link.replace(sig, flipped)).status_code == 403
    expires = parse_qs(parts.query)["Expires"][0]
    assert _fetch(link.replace(f"Expires={expires}", f"Expires={int(expires) + 3600}")).status_code == 403


def test_url_result_expires(aux: Target) -> None:
    """A server with result_ttl_s=2: the link works at once and may be cached no longer than it lives;
    the same link signed (with the server's own key) for a moment already past answers 403."""
    resp = sdk.call(sdk.client(aux), {"InputImage": jpeg_b64(128, 128), "RspImgType": "url"})
    link = resp.ResultImage
    got = _fetch(link)
    assert got.status_code == 200
    assert got.headers["cache-control"] in ("private, max-age=0", "private, max-age=1", "private, max-age=2")
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    key, expires = parts.path.rsplit("/", 1)[1], int(query["Expires"][0])
    signer = LinkSigner(keyfile.read(aux.server.data_dir / "links.key", LinkSigner.MIN_SECRET_BYTES))
    assert signer.signature(key, expires) == query["Signature"][0]  # the test signs as the server does
    past = int(time.time()) - 1
    expired = (
        f"{parts.scheme}://{parts.netloc}{parts.path}?Expires={past}&Signature={signer.signature(key, past)}"
    )
    assert _fetch(expired).status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "netloc"), [("localhost", "localhost:{port}"), ("url", "127.0.0.1:{port}")]
)
def test_url_result_link_follows_the_endpoint_the_client_used(
    wire: Target, endpoint: sdk.EndpointForm, netloc: str
) -> None:
    cli = sdk.client(wire, endpoint=endpoint)
    link = sdk.call(cli, {"InputImage": jpeg_b64(96, 96), "RspImgType": "url"}).ResultImage
    assert urlsplit(link).scheme == "http"
    assert urlsplit(link).netloc == netloc.format(port=wire.port), link
    assert open_jpeg(_fetch(link).content).size == (96, 96)
