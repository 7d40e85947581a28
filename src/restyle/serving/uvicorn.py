"""Hosting with uvicorn, plus the request-head limits uvicorn does not have.

uvicorn bounds the body only through the app (``limit_body``) and has no time limit on the request
*head*: a client that sends half a request line and then waits keeps its connection (and a slot of
``limit_concurrency``) forever, and httptools buffers a head of any size. ``GuardedHttpToolsProtocol``
adds, per connection:

- a head deadline (``header_timeout_s``): armed when the connection opens and again after each
  response (keep-alive), disarmed when the head is complete. When it fires, a client that sent part
  of a head gets ``408 Request Timeout``; one that sent nothing is just closed;
- a head size cap (``max_header_bytes``: request line plus headers, counted while they arrive, so a
  head that never ends is cut off at the limit) and a header count cap (``max_headers``): both answer
  ``431 Request Header Fields Too Large`` and close.

These are transport answers (no API call was made), like uvicorn's own 400 for malformed HTTP.

It also replaces uvicorn's ``limit_concurrency``, which counts *open connections*: 512 idle or
half-sent sockets made every real call get a plain-text 503 the SDK cannot parse. Here
(``ConnectionBook``, shared by the connections of one server):

- only requests whose head is complete count against the request budget (``max_requests``); a call
  over it gets ``RequestLimitExceeded`` in the API envelope (HTTP 200, JSON) on ``/``, 503 elsewhere;
- connections with no request in progress (nothing sent yet, an unfinished head, keep-alive idle)
  are *idle*; when a client address has ``max_per_client`` connections open, or the server
  ``max_connections``, a new connection closes the oldest idle one (of that address, or of all)
  instead of being refused; only when none is idle is the new one closed. So idle sockets can never
  keep out a caller that sends a whole request, and one address cannot hold more than its share.

Everything else is uvicorn's ``HttpToolsProtocol`` unchanged. No business logic lives here.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import sys
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from restyle import errors
from restyle.config import Settings

log = logging.getLogger("restyle.serving")


@dataclass(frozen=True)
class HeadLimits:
    timeout_s: float = 10.0
    max_bytes: int = 64 * 1024
    max_headers: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadLimits:
        return cls(settings.header_timeout_s, settings.max_header_bytes, settings.max_headers)


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 2048  # open connections of the server
    max_per_client: int = 128  # open connections of one client address
    max_requests: int = 512  # requests in progress (head complete, not yet answered)

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        # the cap must bite before the process runs out of file descriptors: at EMFILE the loop
        # stops accepting anyone, and no idle connection can be closed to make room
        fds = _fd_limit() - 64
        return cls(
            max(2, min(settings.max_connections, fds)),
            settings.max_connections_per_client,
            settings.max_requests,
        )


def _fd_limit() -> int:
    """The soft limit of open files, raised to the hard limit (at most 65536) when lower."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        return int(soft) if soft != resource.RLIM_INFINITY else 65536
    except (ImportError, ValueError, OSError):
        return 1024


class ConnectionBook:
    """The open connections of one server: per client address, and which are idle (evictable)."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.idle: OrderedDict[GuardedHttpToolsProtocol, None] = OrderedDict()  # oldest idle first
        self.by_client: dict[str, OrderedDict[GuardedHttpToolsProtocol, None]] = {}
        self.open = 0
        self.evicted = 0  # idle connections closed to admit another
        self.refused = 0  # new connections closed because nothing was idle

    def admit(self, conn: GuardedHttpToolsProtocol) -> bool:
        """Register ``conn``, closing an idle connection if a cap is reached; False if it must close."""
        mine = self.by_client.get(conn.client_key)
        if mine is not None and len(mine) >= self.limits.max_per_client:
            victim = next((c for c in mine if c in self.idle), None)
            if victim is None:
                self.refused += 1
                return False
            self._evict(victim)
        if self.open >= self.limits.max_connections:
            victim = next(iter(self.idle), None)
            if victim is None:
                self.refused += 1
                return False
            self._evict(victim)
        self.open += 1
        self.by_client.setdefault(conn.client_key, OrderedDict())[conn] = None
        self.idle[conn] = None
        return True

    def busy(self, conn: GuardedHttpToolsProtocol) -> None:
        self.idle.pop(conn, None)

    def idle_again(self, conn: GuardedHttpToolsProtocol) -> None:
        if conn in self.by_client.get(conn.client_key, ()):
            self.idle[conn] = None
            self.idle.move_to_end(conn)

    def forget(self, conn: GuardedHttpToolsProtocol) -> None:
        mine = self.by_client.get(conn.client_key)
        if mine is None or conn not in mine:
            return
        del mine[conn]
        if not mine:
            del self.by_client[conn.client_key]
        self.idle.pop(conn, None)
        self.open -= 1

    def _evict(self, conn: GuardedHttpToolsProtocol) -> None:
        self.forget(conn)
        self.evicted += 1
        conn.transport.close()


def _refusal(path: str) -> tuple[int, bytes, bytes]:
    """(status, content type, body) of a request refused for the request budget."""
    if path == "/":  # the API: an answer the SDK parses (contract: HTTP 200, JSON envelope)
        body = {
            "Response": {
                "Error": {
                    "Code": errors.RequestLimitExceeded.code,
                    "Message": "The server has too many requests in progress; retry the call shortly.",
                },
                "RequestId": str(uuid.uuid4()),
            }
        }
        return 200, b"application/json", json.dumps(body).encode()
    return 503, b"text/plain; charset=utf-8", b"Service Unavailable: too many requests in progress.\n"


async def refuse_busy(scope: Any, receive: Any, send: Any) -> None:
    """ASGI app answering a request over the request budget (and closing its connection)."""
    status, ctype, body = _refusal(scope.get("path", ""))
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _HeadTooLarge(Exception):
    pass


def _reply(status: bytes, reason: bytes, text: str) -> bytes:
    body = text.encode("ascii")
    return (
        b"HTTP/1.1 " + status + b" " + reason + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head deadline, head size/count caps and connection caps."""

    limits = HeadLimits()
    book = ConnectionBook(ConnectionLimits())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: Any = None
        self._head_done = False
        self._head_bytes = 0  # bytes received since the current head began (may include body bytes)
        self._head_size = 0  # request target + header names and values of the current head
        self._head_count = 0

    # --- the head deadline ---------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_done = False
        self._head_bytes = self._head_size = self._head_count = 0
        self._head_timer = self.loop.call_later(self.limits.timeout_s, self._head_timeout)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._head_done or self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        if self._head_bytes:
            log.warning(
                "request head from %s not complete within %gs; closing", client, self.limits.timeout_s
            )
            self.transport.write(_reply(b"408", b"Request Timeout", "Request head not received in time.\n"))
        self.transport.close()

    @property
    def client_key(self) -> str:
        return self.client[0] if self.client else "-"

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if not self.book.admit(self):
            log.warning("connection from %s refused: its connections are all busy", self.client_key)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self.book.forget(self)
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            if not self.pipeline and (self.cycle is None or self.cycle.response_complete):
                self.book.idle_again(self)
            self._arm_head_timer()  # the next request on this keep-alive connection

    # --- head size and count ---------------------------------------------------------------------
    def _reject_head(self) -> None:
        self._disarm_head_timer()
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        log.warning("request head from %s over its limits; closing", client)
        text = f"Request head over {self.limits.max_bytes} bytes or {self.limits.max_headers} headers.\n"
        self.transport.write(_reply(b"431", b"Request Header Fields Too Large", text))
        self.transport.close()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        if self._head_size > self.limits.max_bytes:
            raise _HeadTooLarge
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._head_count > self.limits.max_headers or self._head_size > self.limits.max_bytes:
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_done = True
        self._disarm_head_timer()
        self.book.busy(self)
        if len(self.tasks) < self.book.limits.max_requests:
            super().on_headers_complete()
            return
        log.warning("request budget of %d in progress reached; refusing", self.book.limits.max_requests)
        app, self.app = self.app, refuse_busy
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if not self._head_done:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._reject_head()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if not self._head_done and self._head_bytes > self.limits.max_bytes:
            self._reject_head()


def guarded_protocol(
    limits: HeadLimits, connections: ConnectionLimits | None = None
) -> type[GuardedHttpToolsProtocol]:
    """A protocol class bound to ``limits`` and one ``ConnectionBook`` (uvicorn instantiates it once
    per connection)."""
    book = ConnectionBook(connections or ConnectionLimits())
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits, "book": book})


def config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        http=guarded_protocol(HeadLimits.from_settings(settings), ConnectionLimits.from_settings(settings)),
        timeout_keep_alive=5,
        limit_concurrency=None,  # it counts idle connections: ConnectionBook does it per request
        access_log=False,
    )


M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (unless MALLOC_ARENA_MAX is set): True if applied.

    Jobs run on up to ``worker_threads`` threads; glibc gives busy threads arenas of their own and keeps
    what they freed, so 9 concurrent 4999×4999 jobs left the process at ~1.9 GiB peak RSS; with two
    arenas it peaks at ~1.0 GiB (bench/bench_memory.py). Not glibc (musl, macOS): nothing to do.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def serve(app: Any, settings: Settings) -> None:
    """Run ``app`` until SIGINT/SIGTERM (the app's lifespan handles draining)."""
    limit_malloc_arenas()
    uvicorn.Server(config(app, settings)).run()
