"""Hostile InputUrl targets: SSRF host tricks, redirects into forbidden ranges, DNS rebinding, slow and
compressed-bomb servers.

Only loopback is ever contacted. Private, link-local and metadata addresses (10.x, 169.254.169.254)
are only *named*: each is first refused in-process from the URL alone (``Loader.pick_address``), then
sent to a server that must refuse it the same way. Where a connection would be possible (loopback
addresses off the allow-list), a listener proves none was made.

Already covered: tests/wire/test_url_errors.py (schemes, malformed URLs, credentials, private
literals 10.0.0.1/169.254.169.254/192.168/172.16/100.64/0.0.0.0/fd00::1/224.0.0.1, 127.0.0.2 not on
the allow-list, redirect to it, redirect loops and cap, 404/500, a slow host, a body over 8 MiB).
"""

from __future__ import annotations

import base64
import gzip
import socket
import time
from typing import Any

import pytest

from restyle import errors
from restyle.loaders import http as http_loader
from restyle.loaders.http import Loader
from restyle.pipeline.job import ImageRef
from tests.conftest import Server
from tests.hostile import media
from tests.hostile.conftest import HOSTILE, assert_serves, call, no_new_connections
from tests.loopback import Host, Listener

URL_ILLEGAL = "InvalidParameterValue.UrlIllegal"
DOWNLOAD_ERROR = "FailedOperation.ImageDownloadError"
DECODE_FAILED = "FailedOperation.ImageDecodeFailed"
BUDGET = float(HOSTILE["download_timeout_s"])

# every spelling below means 127.0.0.3, where ``listener3`` counts connection attempts
LOOPBACK3_FORMS = [
    "127.0.0.3",
    "2130706435",  # decimal
    "0x7f000003",  # hex, whole
    "0x7f.3",  # hex + short form
    "017700000003",  # octal, whole
    "0177.0.0.3",  # octal first part
    "127.3",  # short form
    "①②⑦.0.0.3",  # enclosed digits (IDNA maps them to ASCII)
    "１２７.0.0.3",  # full-width digits
    "[::ffff:127.0.0.3]",  # IPv4-mapped IPv6
    "[::ffff:7f00:3]",
    "[0:0:0:0:0:ffff:127.0.0.3]",
]
# named only, never contacted
METADATA_FORMS = [
    "169.254.169.254",
    "2852039166",
    "0xa9.0xfe.0xa9.0xfe",
    "0251.0376.0251.0376",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64
    "[2002:a9fe:a9fe::1]",  # 6to4
    "10.1",
    "0xa.0.0.1",
    "[fe80::1]",
    "[fc00::1]",
    "100.100.100.200",  # CGNAT (also Alibaba's metadata address)
]


def _refused_in_process(host: str) -> None:
    """Guard: the loader refuses ``host`` from the URL alone, before any socket exists."""
    with pytest.raises(errors.UrlIllegal):
        Loader(allowlist=[]).pick_address(host.strip("[]"), 80)


@pytest.mark.parametrize("host", LOOPBACK3_FORMS)
def test_loopback_spellings_are_refused_without_connecting(
    ssrf: Server, listener3: Listener, host: str
) -> None:
    _refused_in_process(host)
    check = no_new_connections(listener3)
    reply = call(ssrf, {"InputUrl": f"http://{host}:{listener3.port}/a.jpg"})
    assert reply.code == URL_ILLEGAL, reply
    assert reply.seconds < 2
    check()


@pytest.mark.parametrize("host", METADATA_FORMS)
def test_metadata_and_private_spellings_are_refused(ssrf: Server, host: str) -> None:
    _refused_in_process(host)
    reply = call(ssrf, {"InputUrl": f"http://{host}/latest/meta-data/iam/a.jpg"})
    assert reply.code == URL_ILLEGAL, reply
    assert reply.seconds < 2


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@127.0.0.3:{port}/a.jpg",
        "http://example.com@127.0.0.3:{port}/a.jpg",
        "http://127.0.0.3:{port}@example.com/a.jpg",
        "http://%31%32%37.0.0.3:{port}/a.jpg",
        "http://localhost:{port}/a.jpg",
        "http://LOCALHOST:{port}/a.jpg",
        "http://[::1]:{port}/a.jpg",
        "http://0:{port}/a.jpg",
        "https://127.0.0.3:{port}/a.jpg",
        "HTTP://127.0.0.3:{port}/a.jpg",
    ],
)
def test_other_tricks_are_refused_without_connecting(ssrf: Server, listener3: Listener, url: str) -> None:
    check = no_new_connections(listener3)
    reply = call(ssrf, {"InputUrl": url.format(port=listener3.port)})
    assert reply.code in (URL_ILLEGAL, DOWNLOAD_ERROR), reply  # refused, or a name that does not resolve
    assert reply.seconds < 3
    check()
    assert_serves(ssrf)


# --- redirects: the first hop (127.0.0.5) is allowed, the next one is not -------------------------
@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/x.jpg",
        "http://localhost:{port}/x.jpg",
        "http://2130706433:{port}/x.jpg",
        "http://0x7f.1:{port}/x.jpg",
        "http://[::ffff:127.0.0.1]:{port}/x.jpg",
    ],
)
def test_redirect_to_loopback_is_refused_without_connecting(
    redirector_server: Server, redirector: Host, listener1: Listener, target: str
) -> None:
    url = redirector.add(
        f"/r/{abs(hash(target))}", status=302, headers={"Location": target.format(port=listener1.port)}
    )
    check = no_new_connections(listener1)
    reply = call(redirector_server, {"InputUrl": url})
    assert reply.code == URL_ILLEGAL, reply
    assert reply.seconds < 2
    check()


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://10.0.0.1/a.jpg",
        "file:///etc/passwd",
        "gopher://127.0.0.5:70/_x",
    ],
)
def test_redirect_to_metadata_private_or_other_scheme_is_refused(
    redirector_server: Server, redirector: Host, target: str
) -> None:
    host = target.split("/")[2].rsplit(":", 1)[0] if target.startswith("http") else ""
    if host:
        _refused_in_process(host)
    url = redirector.add(f"/m/{abs(hash(target))}", status=301, headers={"Location": target})
    reply = call(redirector_server, {"InputUrl": url})
    assert reply.code == URL_ILLEGAL, reply
    assert reply.seconds < 2


def test_redirect_within_the_allowed_host_is_followed(redirector_server: Server, redirector: Host) -> None:
    """Positive control: the redirector server does fetch from 127.0.0.5."""
    redirector.add("/ok.jpg", media.SMALL_JPEG)
    url = redirector.add("/ok-redirect", status=307, headers={"Location": "/ok.jpg"})
    reply = call(redirector_server, {"InputUrl": url, "LogoAdd": 0})
    assert reply.code == "OK", reply


# --- slow and bomb servers --------------------------------------------------------------------------
def test_slow_drip_server_is_cut_off_at_the_download_budget(hostile: Server, images: Host) -> None:
    """Headers at once, then one byte every 0.5 s: ImageDownloadError when the 2 s budget is spent."""
    url = images.add("/drip.jpg", media.SMALL_JPEG, drip_s=0.5)
    t0 = time.monotonic()
    assert_serves(hostile)
    reply = call(hostile, {"InputUrl": url})
    assert reply.code == DOWNLOAD_ERROR, reply
    assert BUDGET - 0.3 < reply.seconds < BUDGET + 1.5
    assert time.monotonic() - t0 < 15
    assert_serves(hostile)


def test_gzip_bomb_is_not_inflated(hostile: Server, images: Host) -> None:
    """256 MiB of zeros as ~250 KB of gzip with Content-Encoding: gzip: judged as the gzip bytes."""
    bomb = media.gzip_bomb()
    assert len(bomb) < 1024 * 1024
    url = images.add("/bomb.jpg", bomb, headers={"Content-Encoding": "gzip", "Content-Type": "image/jpeg"})
    reply = call(hostile, {"InputUrl": url})
    assert reply.code == DECODE_FAILED, reply
    assert reply.seconds < 3
    assert_serves(hostile)


def test_gzip_encoded_image_is_not_inflated(hostile: Server, images: Host) -> None:
    """Even a real JPEG is not unpacked from Content-Encoding: gzip (restyle asks for identity)."""
    url = images.add("/gz.jpg", gzip.compress(media.SMALL_JPEG), headers={"Content-Encoding": "gzip"})
    assert call(hostile, {"InputUrl": url}).code == DECODE_FAILED


# --- in-process: the loader's connection discipline -------------------------------------------------
@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``socket.getaddrinfo`` for *.test names from a table; counts lookups. Other names: the real one."""
    state: dict[str, Any] = {"answers": {}, "calls": []}
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, str) and host.endswith(".test"):
            state["calls"].append(host)
            answers = state["answers"][host]
            ips = answers.pop(0) if len(answers) > 1 else answers[0]
            fam = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [
                (
                    fam[6 if ":" in ip else 4],
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port) if ":" not in ip else (ip, port, 0, 0),
                )
                for ip in ips
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(http_loader.socket, "getaddrinfo", fake)
    return state


def test_dns_rebinding_cannot_move_the_connection(
    fake_dns: dict[str, Any], images: Host, listener3: Listener
) -> None:
    """rebind.test answers 127.0.0.1 (allowed) once, then 127.0.0.3: one lookup, connection to .1."""
    images.add("/rebind.jpg", media.SMALL_JPEG)
    fake_dns["answers"]["rebind.test"] = [["127.0.0.1"], ["127.0.0.3"], ["127.0.0.3"]]
    check = no_new_connections(listener3)
    data = Loader(allowlist=["127.0.0.1/32"]).load(
        ImageRef(url=f"http://rebind.test:{images.port}/rebind.jpg"), max_bytes=1 << 20, deadline_s=5
    )
    assert data == media.SMALL_JPEG
    assert fake_dns["calls"] == ["rebind.test"]
    check()


def test_every_resolved_address_is_checked(fake_dns: dict[str, Any], listener3: Listener) -> None:
    """A name answering one allowed and one refused address is refused, before connecting."""
    fake_dns["answers"]["mixed.test"] = [["127.0.0.1", "127.0.0.3"]]
    fake_dns["answers"]["mixed6.test"] = [["127.0.0.1", "::ffff:127.0.0.3"]]
    check = no_new_connections(listener3)
    for name in ("mixed.test", "mixed6.test"):
        with pytest.raises(errors.UrlIllegal):
            Loader(allowlist=["127.0.0.1/32"]).load(
                ImageRef(url=f"http://{name}:{listener3.port}/a.jpg"), max_bytes=1 << 20, deadline_s=5
            )
    check()


def test_host_header_and_path_keep_the_name(fake_dns: dict[str, Any], images: Host) -> None:
    fake_dns["answers"]["named.test"] = [["127.0.0.1"]]
    images.add("/named.jpg?x=1", media.SMALL_JPEG)
    Loader(allowlist=["127.0.0.1/32"]).load(
        ImageRef(url=f"http://named.test:{images.port}/named.jpg?x=1"), max_bytes=1 << 20, deadline_s=5
    )
    assert images.hits[-1] == "/named.jpg?x=1"


def test_total_deadline_spans_slow_headers_and_slow_body(images: Host) -> None:
    """Connect + head + body share one budget: every read waits only for what is left of it."""
    images.add("/slow-total.jpg", media.SMALL_JPEG, drip_s=0.9)  # bytes at 0.9 s, 1.8 s, ...
    loader = Loader(allowlist=["127.0.0.1"])
    t0 = time.monotonic()
    with pytest.raises(errors.ImageDownloadError):
        loader.load(ImageRef(url=images.url("/slow-total.jpg")), max_bytes=1 << 20, deadline_s=1.0)
    # a read timeout fixed at the start (1 s) would wait for the 1.8 s byte
    assert time.monotonic() - t0 < 1.4


def test_silent_server_is_cut_off_at_the_deadline() -> None:
    """A peer that accepts and never answers: ImageDownloadError at the deadline, not at a per-read timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        loader = Loader(allowlist=["127.0.0.1"])
        t0 = time.monotonic()
        with pytest.raises(errors.ImageDownloadError):
            loader.load(
                ImageRef(url=f"http://127.0.0.1:{sock.getsockname()[1]}/x.jpg"),
                max_bytes=1 << 20,
                deadline_s=0.8,
            )
        assert 0.6 < time.monotonic() - t0 < 1.5
    finally:
        sock.close()


def test_response_headers_that_never_end_are_bounded(images: Host) -> None:
    """A 1 MB response header: refused by the HTTP parser, not buffered."""
    images.add("/hdr.jpg", media.SMALL_JPEG, headers={"X-Huge": "a" * 1_000_000})
    with pytest.raises(errors.ImageDownloadError):
        Loader(allowlist=["127.0.0.1"]).load(
            ImageRef(url=images.url("/hdr.jpg")), max_bytes=1 << 20, deadline_s=5
        )


def test_b64_of_downloaded_bytes_is_not_interpreted(hostile: Server, images: Host) -> None:
    """A URL serving base64 text (not bytes) is not an image: no second decoding layer."""
    url = images.add("/b64.jpg", base64.b64encode(media.SMALL_JPEG))
    assert call(hostile, {"InputUrl": url}).code == DECODE_FAILED
