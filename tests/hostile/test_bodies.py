"""Bodies buffered before authentication (issue 11 #4).

Before the fix each connection could hold 10 MiB before its signature was checked (150 unsigned
connections held 1.8 GiB for 30 s). Now what the head decides is decided before the body is read, a
refused body is drained and dropped, and bodies of callers not yet authenticated share one budget.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from restyle.api import signing
from tests.conftest import Server, start_server
from tests.hostile.conftest import FAST, SMALL_JPEG, call
from tests.hostile.test_credentials import rss_bytes

pytestmark = pytest.mark.restyle_only
MiB = 1024 * 1024
PARAMS = {"InputImage": base64.b64encode(SMALL_JPEG).decode(), "LogoAdd": 0, "RspImgType": "url"}


def _half_sent(server: Server, head: dict[str, str], declared: int, send: int) -> socket.socket:
    """A POST whose head declares ``declared`` body bytes, of which ``send`` are sent."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    s.sendall(
        f"POST / HTTP/1.1\r\nHost: {server.endpoint}\r\n{lines}Content-Length: {declared}\r\n\r\n".encode()
    )
    block = b" " * 65536
    for _ in range(send // len(block)):
        s.sendall(block)
    return s


def _reply_code(s: socket.socket, timeout: float = 15) -> str:
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:200]
    return str(json.loads(body)["Response"]["Error"]["Code"])


@pytest.mark.parametrize(
    ("head", "code"),
    [
        ({"Content-Type": "application/json"}, "MissingParameter"),
        (
            {
                "Content-Type": "application/json",
                "X-TC-Action": "ImageToImage",
                "X-TC-Version": "2022-12-29",
                "X-TC-Region": "ap-singapore",
            },
            "AuthFailure.InvalidAuthorization",
        ),
    ],
    ids=["no-headers", "no-authorization"],
)
def test_unsigned_body_is_refused_from_the_head_and_not_kept(
    hostile: Server, head: dict[str, str], code: str
) -> None:
    """40 unsigned POSTs each sending 8 of their 10 MiB and waiting: nothing of them is kept (RSS
    grows by far less than the 320 MiB they sent); each gets its code once the drain gives up."""
    before = rss_bytes(hostile.proc.pid)
    socks = [_half_sent(hostile, head, 10 * MiB - 1, 8 * MiB) for _ in range(40)]
    try:
        time.sleep(0.5)
        grown = rss_bytes(hostile.proc.pid) - before
        assert call(hostile, PARAMS, timeout=30).code == "OK"  # served meanwhile
        assert grown < 100 * MiB, f"RSS grew by {grown / MiB:.0f} MiB"
        assert _reply_code(socks[0]) == code
    finally:
        for s in socks:
            s.close()


def test_unknown_secret_id_body_is_not_kept(hostile: Server) -> None:
    """A TC3 head with an unknown SecretId: SecretIdNotFound from the head; a whole 9 MiB body sent
    before reading still gets the answer (drained, not kept)."""
    body = b" " * (9 * MiB)
    headers = signing.sign_tc3_headers(
        secret_id="AKIDnobody", secret_key="x", host=hostile.endpoint, body=body, timestamp=int(time.time())
    )
    with httpx.Client(trust_env=False, timeout=30) as http:
        resp = http.post(f"{hostile.url}/", content=body, headers=headers)
    assert (
        resp.status_code == 200 and resp.json()["Response"]["Error"]["Code"] == "AuthFailure.SecretIdNotFound"
    )


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose unauthenticated-body budget is 4 MiB."""
    srv = start_server(
        tmp_path_factory.mktemp("budget"), **FAST, max_unverified_body_bytes=4 * MiB, body_timeout_s=10.0
    )
    yield srv
    srv.stop()


def _padded(extra: int) -> bytes:
    return json.dumps(PARAMS).encode() + b" " * extra


def _post(server: Server, body: bytes, *, unsigned_payload: bool = False) -> str:
    ts = int(time.time())
    if unsigned_payload:
        date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
        hdrs = {"content-type": "application/json", "host": server.endpoint}
        canon = signing.canonical_request(
            method="POST",
            query="",
            headers=hdrs,
            signed_headers=("content-type", "host"),
            payload_hash=hashlib.sha256(signing.UNSIGNED.encode()).hexdigest(),
        )
        sig = signing.tc3_signature(
            server.secret_key, date=date, service="aiart", timestamp=str(ts), canonical_request=canon
        )
        headers = {
            "Content-Type": "application/json",
            "X-TC-Action": "ImageToImage",
            "X-TC-Version": "2022-12-29",
            "X-TC-Region": "ap-singapore",
            "X-TC-Timestamp": str(ts),
            "X-TC-Content-SHA256": signing.UNSIGNED,
            "Authorization": f"TC3-HMAC-SHA256 Credential={server.secret_id}/{date}/aiart/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={sig}",
        }
    else:
        headers = signing.sign_tc3_headers(
            secret_id=server.secret_id,
            secret_key=server.secret_key,
            host=server.endpoint,
            body=body,
            timestamp=ts,
        )
    with httpx.Client(trust_env=False, timeout=30) as http:
        resp = http.post(f"{server.url}/", content=body, headers=headers)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    payload = resp.json()["Response"]
    assert payload["RequestId"]
    return str(payload["Error"]["Code"]) if "Error" in payload else "OK"


def test_unauthenticated_bodies_share_one_budget(budgeted: Server) -> None:
    """A v1 form (credentials in the body, so it must be read) holds 3 of the 4 MiB budget: a signed
    call with a 2 MiB body gets RequestLimitExceeded (JSON), an UNSIGNED-PAYLOAD call (verified from
    its head) is served; once the form is gone the 2 MiB call is served too."""
    held = _half_sent(budgeted, {"Content-Type": "application/x-www-form-urlencoded"}, 3 * MiB, 2 * MiB)
    try:
        time.sleep(0.3)
        assert _post(budgeted, _padded(2 * MiB)) == "RequestLimitExceeded"
        assert _post(budgeted, _padded(2 * MiB), unsigned_payload=True) == "OK"
    finally:
        held.close()
    time.sleep(0.3)
    assert _post(budgeted, _padded(2 * MiB)) == "OK"
