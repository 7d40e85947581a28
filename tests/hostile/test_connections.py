"""Connection exhaustion (issue 11 #3): idle and half-sent connections must not lock out real callers.

Before the fix uvicorn's ``limit_concurrency=512`` counted every open connection: 512 idle sockets
(or ~600 reconnecting slowloris ones) made every signed call get a plain-text 503. The attackers here
connect from other loopback addresses (127.0.0.2, 127.0.0.7) than the signed caller (127.0.0.1), as
a remote attacker would, so the per-address caps can tell them apart.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.hostile.conftest import FAST, SMALL_JPEG, call

pytestmark = pytest.mark.restyle_only
PARAMS = {"InputImage": base64.b64encode(SMALL_JPEG).decode(), "LogoAdd": 0, "RspImgType": "url"}


def _open(server: Server, source: str, n: int, first_bytes: bytes = b"") -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", server.port))
            if first_bytes:
                s.sendall(first_bytes)
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def _still_open(socks: list[socket.socket]) -> int:
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            n += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            n += 1  # nothing to read and not closed
        except OSError:
            pass
    return n


def test_thousand_idle_connections_do_not_lock_out_signed_calls(hostile: Server) -> None:
    """1000 idle sockets from one address: signed calls from another are all served (JSON, OK);
    the idle address keeps at most its per-address share of connections."""
    socks = _open(hostile, "127.0.0.2", 1000)
    try:
        assert len(socks) > 600
        replies = [call(hostile, PARAMS, timeout=30) for _ in range(5)]
        assert [r.code for r in replies] == ["OK"] * 5, replies
        time.sleep(0.2)
        assert _still_open(socks) <= 128
    finally:
        for s in socks:
            s.close()


def test_reconnecting_slowloris_does_not_lock_out_signed_calls(hostile: Server) -> None:
    """600 sockets from one address that each send half a head and reconnect when closed, for 6 s:
    every signed call made meanwhile is served."""
    stop = threading.Event()
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{hostile.port}\r\nX-Slow: ".encode()

    def loris() -> None:
        socks = _open(hostile, "127.0.0.7", 600, head)
        while not stop.is_set():
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"a")
                except OSError:
                    s.close()
                    fresh = _open(hostile, "127.0.0.7", 1, head)
                    if fresh:
                        socks[i] = fresh[0]
                if stop.is_set():
                    break
            stop.wait(0.2)
        for s in socks:
            s.close()

    attacker = threading.Thread(target=loris, daemon=True)
    attacker.start()
    try:
        time.sleep(1.0)
        codes = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and len(codes) < 10:
            codes.append(call(hostile, PARAMS, timeout=30).code)
        assert codes and codes == ["OK"] * len(codes), codes
    finally:
        stop.set()
        attacker.join(30)


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a request budget of 2 and a per-address cap of 4 connections."""
    srv = start_server(
        tmp_path_factory.mktemp("narrow"),
        **FAST,
        max_requests=2,
        max_connections_per_client=4,
        body_timeout_s=5.0,
    )
    yield srv
    srv.stop()


def _hold_request(server: Server, source: str) -> socket.socket:
    """A request whose head is complete and whose body never comes: in progress for body_timeout_s."""
    s = _open(server, source, 1)[0]
    s.sendall(
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{".encode()
    )
    return s


def test_over_the_request_budget_answers_in_the_api_envelope(narrow: Server) -> None:
    """With the budget of requests in progress used up, a signed call gets RequestLimitExceeded as
    JSON with HTTP 200 (the SDK raises it), not a plain-text 503; once they finish it is served."""
    held = [_hold_request(narrow, "127.0.0.2"), _hold_request(narrow, "127.0.0.2")]
    try:
        time.sleep(0.3)
        body = json.dumps(PARAMS).encode()
        headers = narrow.sign(body)
        with httpx.Client(trust_env=False, timeout=30) as http:
            resp = http.post(f"{narrow.url}/", content=body, headers=headers)
            assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
            payload = resp.json()["Response"]
            assert payload["Error"]["Code"] == "RequestLimitExceeded" and payload["RequestId"]
            assert http.get(f"{narrow.url}/healthz").status_code == 503
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert call(narrow, PARAMS, timeout=30).code == "OK"


def test_one_address_keeps_at_most_its_share(narrow: Server) -> None:
    """10 idle connections from one address where the cap is 4: the oldest are closed, 4 stay."""
    socks = _open(narrow, "127.0.0.9", 10)
    try:
        time.sleep(0.3)
        assert _still_open(socks) == 4
        assert _still_open(socks[-4:]) == 4  # the newest stay
    finally:
        for s in socks:
            s.close()
    assert call(narrow, PARAMS, timeout=30).code == "OK"
