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
Everything else is uvicorn's ``HttpToolsProtocol`` unchanged. No business logic lives here.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
    """uvicorn's httptools protocol with a head deadline and head size/count caps."""

    limits = HeadLimits()

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

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
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
        super().on_headers_complete()

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


def guarded_protocol(limits: HeadLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class bound to ``limits`` (uvicorn instantiates it once per connection)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


def config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        http=guarded_protocol(HeadLimits.from_settings(settings)),
        timeout_keep_alive=5,
        limit_concurrency=512,
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
