"""Contract §10, the InputUrl rows: syntax, SSRF refusal without connecting, download failures.

Private and link-local targets (10.0.0.1, 169.254.169.254) are only ever *named* in requests: the
server must refuse them from the literal address, before any connection. The test first checks that
in-process (``Loader.pick_address`` raises), so a regression fails here without sending anything. The
"nothing is sent" property itself is shown on 127.0.0.2, a loopback address that is not on the
allow-list, where a listener counts connection attempts.
"""

from __future__ import annotations

import time

import pytest

from restyle import errors
from restyle.loaders.http import Loader
from tests.conftest import free_port
from tests.wire import sdk
from tests.wire.conftest import ImageHost, Sink
from tests.wire.media import jpeg, jpeg_b64
from tests.wire.sdk import Target

pytestmark = pytest.mark.restyle_only

URL_ILLEGAL = "InvalidParameterValue.UrlIllegal"
DOWNLOAD_ERROR = "FailedOperation.ImageDownloadError"


def _code(target: Target, params: dict[str, object]) -> str:
    return str(sdk.expect_error(sdk.client(target), params).get_code())


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/a.jpg",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_x",
        "javascript:alert(1)",
        "not a url",
        "http://",
        "http:///a.jpg",
        "http://127.0.0.1:99999/a.jpg",
        "http://127.0.0.1\x00.example.com/a.jpg",
        "http://127.0.0.1:1/a.jpg\r\nX-Injected: 1",
        "http://127.0.0.1:1/\ud800.jpg",
        "http://[::1/a.jpg",
    ],
)
def test_bad_scheme_or_malformed_url_is_url_illegal(wire: Target, url: str) -> None:
    assert _code(wire, {"InputUrl": url}) == URL_ILLEGAL


@pytest.mark.parametrize("userinfo", ["user:pw@", "user@", ":pw@"])
def test_credentials_in_url_are_url_illegal(wire: Target, images: ImageHost, userinfo: str) -> None:
    url = images.add("/url/creds.jpg", jpeg(128, 128))
    before = images.hits.count("/url/creds.jpg")
    assert _code(wire, {"InputUrl": url.replace("http://", f"http://{userinfo}")}) == URL_ILLEGAL
    assert images.hits.count("/url/creds.jpg") == before


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "169.254.169.254",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "[fd00::1]",
        "224.0.0.1",
    ],
)
def test_private_literal_address_is_url_illegal(wire: Target, host: str) -> None:
    with pytest.raises(errors.UrlIllegal):  # guard: refused from the literal, no socket opened
        Loader(allowlist=["127.0.0.1", "::1", "localhost"]).pick_address(host.strip("[]"), 80)
    t0 = time.monotonic()
    assert _code(wire, {"InputUrl": f"http://{host}/latest/meta-data/a.jpg"}) == URL_ILLEGAL
    assert time.monotonic() - t0 < 2.0  # answered at once: nothing was waited for


def test_loopback_not_on_allow_list_is_refused_without_connecting(wire: Target, sink: Sink) -> None:
    before = sink.settle()
    assert _code(wire, {"InputUrl": sink.url()}) == URL_ILLEGAL
    assert sink.settle() == before  # every attempt counted: a barrier, not a sleep


def test_redirect_to_a_refused_address_is_url_illegal(wire: Target, images: ImageHost, sink: Sink) -> None:
    """Every redirect hop is checked; the refused hop is never contacted."""
    url = images.add("/url/to-sink", status=302, headers={"Location": sink.url()})
    before = sink.settle()
    assert _code(wire, {"InputUrl": url}) == URL_ILLEGAL
    assert "/url/to-sink" in images.hits
    assert sink.settle() == before  # every attempt counted: a barrier, not a sleep


def test_redirect_to_an_allowed_host_is_followed(wire: Target, images: ImageHost) -> None:
    target = images.add("/url/redirect-target.jpg", jpeg(128, 96))
    url = images.add("/url/redirect", status=301, headers={"Location": "/url/redirect-target.jpg"})
    resp = sdk.call(sdk.client(wire), {"InputUrl": url, "LogoAdd": 0})
    assert resp.ResultImage
    assert target.endswith(images.hits[-1])


def test_refused_connection_is_download_error(wire: Target) -> None:
    port = free_port()  # nothing listens there
    assert _code(wire, {"InputUrl": f"http://127.0.0.1:{port}/a.jpg"}) == DOWNLOAD_ERROR


@pytest.mark.parametrize("status", [404, 403, 500, 204])
def test_non_2xx_or_empty_answer_is_download_error(wire: Target, images: ImageHost, status: int) -> None:
    url = images.add(f"/url/status-{status}", b"" if status == 204 else b"nope", status=status)
    code = _code(wire, {"InputUrl": url})
    # 204 is 2xx with no content: zero bytes are not an image
    assert code == ("FailedOperation.ImageDecodeFailed" if status == 204 else DOWNLOAD_ERROR)


def test_unknown_path_is_download_error(wire: Target, images: ImageHost) -> None:
    assert _code(wire, {"InputUrl": images.url("/url/never-added.jpg")}) == DOWNLOAD_ERROR


def test_too_many_redirects_is_download_error(wire: Target, images: ImageHost) -> None:
    url = images.add("/url/loop", status=302, headers={"Location": "/url/loop"})
    assert _code(wire, {"InputUrl": url}) == DOWNLOAD_ERROR


def test_redirect_without_location_is_download_error(wire: Target, images: ImageHost) -> None:
    url = images.add("/url/no-location", status=302)
    assert _code(wire, {"InputUrl": url}) == DOWNLOAD_ERROR


def test_download_over_the_time_budget_is_download_error(aux: Target, images: ImageHost) -> None:
    """aux server: download_timeout_s=1; the host answers after 3 s."""
    url = images.add("/url/slow.jpg", jpeg(128, 128), delay_s=3.0)
    t0 = time.monotonic()
    assert _code(aux, {"InputUrl": url}) == DOWNLOAD_ERROR
    assert time.monotonic() - t0 < 2.9  # the host answers after 3 s


def test_downloaded_image_over_8_mib_is_size_exceed(wire: Target, images: ImageHost) -> None:
    url = images.add("/url/huge.jpg", jpeg(64, 64) + b"\x00" * (8 * 1024 * 1024))
    assert _code(wire, {"InputUrl": url}) == "FailedOperation.ImageSizeExceed"


def test_downloaded_bytes_that_are_not_an_image_are_decode_failed(wire: Target, images: ImageHost) -> None:
    url = images.add("/url/page.jpg", b"<html>not an image</html>", headers={"Content-Type": "image/jpeg"})
    assert _code(wire, {"InputUrl": url}) == "FailedOperation.ImageDecodeFailed"


def test_url_is_checked_even_when_input_image_is_valid(wire: Target) -> None:
    """URL wins: a bad InputUrl is an error although InputImage alone would succeed."""
    assert _code(wire, {"InputUrl": "ftp://127.0.0.1/a.jpg", "InputImage": jpeg_b64(96, 96)}) == URL_ILLEGAL


# --- LogoParam.LogoUrl: same fetch rules as InputUrl; LogoUrl wins over LogoImage ----------------
def _logo(url: str, **extra: object) -> dict[str, object]:
    rect = {"X": 8, "Y": 8, "Width": 64, "Height": 32}
    return {
        "InputImage": jpeg_b64(128, 128),
        "ResultConfig": {"Resolution": "768:768"},
        "LogoParam": {"LogoUrl": url, "LogoRect": rect, **extra},
    }


def test_logo_url_from_a_loopback_host(wire: Target, images: ImageHost) -> None:
    url = images.add("/logo/ok.jpg", jpeg(64, 32))
    assert sdk.call(sdk.client(wire), _logo(url)).ResultImage
    assert "/logo/ok.jpg" in images.hits


def test_logo_url_wins_over_an_invalid_logo_image(wire: Target, images: ImageHost) -> None:
    url = images.add("/logo/wins.jpg", jpeg(64, 32))
    assert sdk.call(sdk.client(wire), _logo(url, LogoImage="@@@ not base64")).ResultImage


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/logo.png", "http://u:p@127.0.0.1/logo.png", "http://10.0.0.1/l.png"]
)
def test_bad_logo_url_is_url_illegal(wire: Target, url: str) -> None:
    assert _code(wire, _logo(url)) == URL_ILLEGAL


def test_logo_url_to_refused_loopback_is_url_illegal_without_connecting(wire: Target, sink: Sink) -> None:
    before = sink.settle()
    assert _code(wire, _logo(sink.url("/logo.png"))) == URL_ILLEGAL
    assert sink.settle() == before  # every attempt counted: a barrier, not a sleep


def test_logo_url_404_is_download_error(wire: Target, images: ImageHost) -> None:
    assert _code(wire, _logo(images.url("/logo/missing.png"))) == DOWNLOAD_ERROR
