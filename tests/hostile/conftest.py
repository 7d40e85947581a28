"""Hostile-input fixtures: servers with short budgets, signed raw calls, loopback hosts that misbehave.

Servers:
- ``hostile``: loopback allow-list (127.0.0.1, ::1, localhost) like the shared test server, but with a
  2 s download budget, a 2 s body budget, a 1.5 s head budget and a high request rate;
- ``ssrf``: an **empty** URL allow-list, so every loopback/private target is refused;
- ``redirector``: allow-list holding only 127.0.0.5, where a redirecting host listens.

Nothing here ever connects to a non-loopback address: private and link-local targets are only named
in URLs that the server must refuse, and each such case first checks in-process that the loader
refuses the address from the URL alone.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Server, encode, photo, start_server
from tests.loopback import Host, Listener, serving

FAST = {"requests_per_second": 1000, "jobs_per_account": 3}
HOSTILE = {
    **FAST,
    "download_timeout_s": 2.0,
    "body_timeout_s": 2.0,
    "header_timeout_s": 1.5,
    "job_timeout_s": 20.0,
}


@dataclass
class Reply:
    code: str  # "OK" on success
    message: str
    seconds: float
    payload: dict[str, Any]

    @property
    def result(self) -> bytes:
        return base64.b64decode(self.payload["ResultImage"])


def call(server: Server, params: dict[str, Any] | bytes, *, timeout: float = 60) -> Reply:
    """One signed ImageToImage POST; checks the envelope (HTTP 200, JSON, RequestId)."""
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    headers = server.sign(body)
    t0 = time.monotonic()
    with httpx.Client(trust_env=False, timeout=timeout) as http:
        resp = http.post(f"{server.url}/", content=body, headers=headers)
    seconds = time.monotonic() - t0
    assert resp.status_code == 200, (resp.status_code, resp.text[:200])
    assert resp.headers["content-type"] == "application/json"
    payload = resp.json()["Response"]
    assert payload.get("RequestId"), payload
    err = payload.get("Error")
    if err:
        return Reply(err["Code"], err["Message"], seconds, payload)
    return Reply("OK", "", seconds, payload)


def v1_form(secret_id: str, **extra: str) -> bytes:
    """A v1 (HmacSHA256, form-encoded) ImageToImage body from ``secret_id``, with a signature that is not valid."""
    params = {
        "Action": "ImageToImage",
        "Version": "2022-12-29",
        "Region": "ap-singapore",
        "Timestamp": str(int(time.time())),
        "Nonce": "12345",
        "SecretId": secret_id,
        "SignatureMethod": "HmacSHA256",
        "Signature": "c2lnbmF0dXJl",
        **extra,
    }
    return urlencode(params).encode()


SMALL_JPEG = encode(photo("astronaut", (96, 96)), quality=85)


def assert_serves(server: Server) -> None:
    """The server still answers a normal call, promptly."""
    reply = call(server, {"InputImage": base64.b64encode(SMALL_JPEG).decode(), "LogoAdd": 0}, timeout=30)
    assert reply.code == "OK", reply
    assert reply.seconds < 10, reply.seconds


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("hostile"), **HOSTILE)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def ssrf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("ssrf"), url_allowlist=[], **HOSTILE)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def redirector_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("redir"), url_allowlist=["127.0.0.5/32"], **HOSTILE)
    yield srv
    srv.stop()


# --- loopback hosts -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def listener3() -> Iterator[Listener]:
    """127.0.0.3: on no server's allow-list; any connection there is a failure."""
    yield from serving(Listener("127.0.0.3"))


@pytest.fixture(scope="session")
def listener1() -> Iterator[Listener]:
    """127.0.0.1 listener for the redirector server, whose allow-list holds only 127.0.0.5."""
    yield from serving(Listener("127.0.0.1"))


@pytest.fixture(scope="session")
def redirector() -> Iterator[Host]:
    """127.0.0.5: the one address on the redirector server's allow-list."""
    yield from serving(Host("127.0.0.5"))


def no_new_connections(listener: Listener) -> Callable[[], None]:
    before = listener.settle()

    def check() -> None:
        assert listener.settle() == before, "a connection reached a refused address"

    return check
