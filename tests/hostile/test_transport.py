"""Hostile clients at the HTTP level: huge and slow bodies, slow, huge and numerous headers.

Each case checks the answer (or the close) arrives within its budget and that other clients are
served meanwhile and afterwards. Already covered: tests/wire/test_image_errors.py (bodies just over,
exactly at and chunked over 10 MiB), tests/wire/test_transport.py (GET query over 32 KB).
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from tests.conftest import Server
from tests.hostile.conftest import HOSTILE, assert_serves

MiB = 1024 * 1024


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_reply(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                length = [
                    int(v)
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                ]
                if length and len(rest) >= length[0]:
                    break
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def _api_code(reply: bytes) -> str:
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:80]
    payload = json.loads(body)["Response"]
    assert payload["RequestId"]
    return str(payload["Error"]["Code"])


def _push_body(server: Server, declared: int) -> tuple[bytes, int, float]:
    """Send a head declaring ``declared`` bytes, then push zeros while reading the reply."""
    sock = _connect(server)
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    sent = 0
    stop = threading.Event()

    def pump() -> None:
        nonlocal sent
        block = b"A" * 65536
        try:
            sock.sendall(head)
            while sent < declared and not stop.is_set():
                sock.sendall(block)
                sent += len(block)
        except OSError:
            pass

    t0 = time.monotonic()
    writer = threading.Thread(target=pump, daemon=True)
    writer.start()
    reply = _read_reply(sock, timeout=20)
    elapsed = time.monotonic() - t0
    stop.set()
    sock.close()
    writer.join(5)
    return reply, sent, elapsed


def test_fifty_mib_body_is_refused(hostile: Server) -> None:
    """Content-Length 50 MiB: RequestEntityTooLarge, promptly; nothing over 10 MiB is kept.

    The body is drained (not kept) so a client that writes all of it before reading gets the reply."""
    reply, _, elapsed = _push_body(hostile, 50 * MiB)
    assert reply, "connection closed without an answer"
    assert _api_code(reply) == "FailedOperation.RequestEntityTooLarge"
    assert elapsed < 10
    assert_serves(hostile)


def test_endless_body_is_not_read_to_its_end(hostile: Server) -> None:
    """Content-Length 1 GiB: the server stops reading after a bounded drain (8 × the limit), answers and closes the connection."""
    reply, sent, elapsed = _push_body(hostile, 1024 * MiB)
    if reply:  # the reply can be lost to the reset that closing with unread data causes
        assert _api_code(reply) == "FailedOperation.RequestEntityTooLarge"
    assert sent < 150 * MiB  # 80 MiB drained + socket buffers; the client could not push the rest
    assert elapsed < 15
    assert_serves(hostile)


def test_slow_drip_body_times_out_and_others_are_served(hostile: Server) -> None:
    """1 byte per 0.25 s of a 1000-byte body under a valid signed head: RequestTimeout after
    body_timeout_s (2 s). (An unsigned head is refused from the head alone: see
    test_bodies.py::test_unsigned_body_is_refused_from_the_head_and_not_kept.)"""
    sock = _connect(hostile)
    signed = hostile.sign(b" " * 1000)
    head = "".join(f"{k}: {v}\r\n" for k, v in signed.items())
    sock.sendall(f"POST / HTTP/1.1\r\n{head}Content-Length: 1000\r\n\r\n".encode())
    stop = threading.Event()

    def drip() -> None:
        try:
            while not stop.wait(0.25):
                sock.sendall(b" ")
        except OSError:
            pass

    t0 = time.monotonic()
    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    assert_serves(hostile)  # served while the drip goes on
    reply = _read_reply(sock, timeout=10)
    elapsed = time.monotonic() - t0
    stop.set()
    dripper.join(5)
    sock.close()
    assert _api_code(reply) == "FailedOperation.RequestTimeout"
    assert HOSTILE["body_timeout_s"] - 0.5 < elapsed < HOSTILE["body_timeout_s"] + 2.5


@pytest.mark.parametrize(
    "partial",
    [b"", b"POST / HT", b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaa"],
    ids=["nothing", "half-request-line", "unfinished-headers"],
)
def test_slow_head_is_cut_off_and_others_are_served(hostile: Server, partial: bytes) -> None:
    """A client that starts a request and waits is closed within header_timeout_s (1.5 s)."""
    sock = _connect(hostile)
    t0 = time.monotonic()
    sock.sendall(partial)
    assert_serves(hostile)
    reply = _read_reply(sock, timeout=10)
    elapsed = time.monotonic() - t0
    sock.close()
    assert elapsed < HOSTILE["header_timeout_s"] + 2.0
    assert elapsed > HOSTILE["header_timeout_s"] - 0.5
    assert reply == b"" if not partial else reply.startswith(b"HTTP/1.1 408")


def test_one_byte_at_a_time_head_is_cut_off(hostile: Server) -> None:
    """Each byte arrives in time, the head as a whole does not: the deadline is for the whole head."""
    sock = _connect(hostile)
    t0 = time.monotonic()
    line = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"a" * 200
    closed = False
    try:
        for byte in line:
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - t0 > 6:
                break
    except OSError:
        closed = True
    reply = _read_reply(sock, timeout=5)
    elapsed = time.monotonic() - t0
    sock.close()
    assert closed or reply.startswith(b"HTTP/1.1 408")
    assert elapsed < HOSTILE["header_timeout_s"] + 3
    assert_serves(hostile)


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * 100_000 + b"\r\n",
        b"".join(b"X-H%d: v\r\n" % i for i in range(500)),
        b"Cookie: " + b"c=1; " * 20_000 + b"\r\n",
    ],
    ids=["one-100KB-header", "500-headers", "100KB-cookie"],
)
def test_oversized_or_numerous_headers_get_431(hostile: Server, headers: bytes) -> None:
    sock = _connect(hostile)
    t0 = time.monotonic()
    try:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"Content-Length: 2\r\n\r\n{}")
    except OSError:
        pass
    reply = _read_reply(sock, timeout=10)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 431"), reply[:80]
    assert time.monotonic() - t0 < 3
    assert_serves(hostile)


def test_head_that_never_ends_is_cut_at_the_size_limit(hostile: Server) -> None:
    """Header bytes streamed without an end: refused once 64 KiB have arrived, not buffered forever."""
    sock = _connect(hostile)
    sent = 0
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")
        while sent < 4 * MiB:
            sock.sendall(b"a" * 4096)
            sent += 4096
    except OSError:
        pass
    reply = _read_reply(sock, timeout=5)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 431") or reply == b"", reply[:80]
    assert sent < 4 * MiB
    assert_serves(hostile)


def test_long_get_query_still_gets_the_api_code(hostile: Server) -> None:
    """A 40 KB query passes the head limit and gets the contract's code (GET query over 32 KiB).

    (The SDK form of this case: tests/wire/test_transport.py::test_get_query_over_32_kb_is_too_large.)"""
    sock = _connect(hostile)
    sock.sendall(b"GET /?InputImage=" + b"A" * 40_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = _read_reply(sock, timeout=10)
    sock.close()
    assert _api_code(reply) == "FailedOperation.RequestEntityTooLarge"
