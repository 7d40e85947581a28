"""Hostile credentials: long or malformed SecretIds and other credential fields (issue 11 #1).

Each is answered with the code an unknown id (or a bad field) gets, without any key lookup, and
leaves no memory behind: before the fix every unknown SecretId stayed in the key cache, whole.
"""

from __future__ import annotations

import time

import httpx
import pytest

from restyle.api.signing import sign_tc3_headers
from tests.conftest import Server
from tests.hostile.conftest import assert_serves, v1_form

MiB = 1024 * 1024
pytestmark = pytest.mark.restyle_only


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _post(http: httpx.Client, server: Server, body: bytes, headers: dict[str, str]) -> str:
    resp = http.post(f"{server.url}/", content=body, headers=headers)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    payload = resp.json()["Response"]
    assert payload["RequestId"]
    return str(payload["Error"]["Code"])


def test_long_v1_secret_ids_do_not_pin_memory(hostile: Server) -> None:
    """40 v1 form posts with distinct 4 MiB SecretIds: SecretIdNotFound, and RSS does not keep them.

    Before the fix each id stayed in the key cache: +160 MiB that never went away."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(trust_env=False, timeout=30) as http:
        _post(http, hostile, v1_form("AKIDwarmup"), form)
        before = rss_bytes(hostile.proc.pid)
        for i in range(40):
            code = _post(http, hostile, v1_form(f"AKID{i:03d}" + "x" * (4 * MiB)), form)
            assert code == "AuthFailure.SecretIdNotFound"
        grown = rss_bytes(hostile.proc.pid) - before
    assert grown < 64 * MiB, f"RSS grew by {grown / MiB:.0f} MiB"
    assert_serves(hostile)


def test_long_tc3_secret_id_is_not_found(hostile: Server) -> None:
    """A 60 KB SecretId in the Authorization header: SecretIdNotFound (not looked up, not cached)."""
    body = b'{"InputUrl":"http://127.0.0.1/x.png"}'
    headers = sign_tc3_headers(
        secret_id="AKID" + "y" * 60_000,
        secret_key="whatever",
        host=hostile.endpoint,
        body=body,
        timestamp=int(time.time()),
    )
    with httpx.Client(trust_env=False, timeout=30) as http:
        assert _post(http, hostile, body, headers) == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"SecretId": "AKID/../x"}, "AuthFailure.SecretIdNotFound"),
        ({"Signature": "s" * 100_000}, "AuthFailure.SignatureFailure"),
        ({"Nonce": "1" * 100_000}, "InvalidParameter.InvalidParameter"),
        ({"Timestamp": "1" * 100_000}, "InvalidParameter.InvalidParameter"),
        ({"Token": "t" * 100_000}, "AuthFailure.TokenFailure"),
    ],
    ids=["secret-id-with-slash", "100KB-signature", "100KB-nonce", "100KB-timestamp", "100KB-token"],
)
def test_oversized_v1_credential_fields(hostile: Server, extra: dict[str, str], code: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = v1_form(extra.pop("SecretId", hostile.secret_id), **extra)
    with httpx.Client(trust_env=False, timeout=30) as http:
        assert _post(http, hostile, body, form) == code
