"""Requests with more than one Host header are refused with 400 (RFC 9112 §3.2).

A signature is checked against one Host and a result link is built from a Host; with two of them a
client could have the link point at another host than the one it signed. No route sees such a request.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from restyle.service import Service

BODY = b"Bad Request: more than one Host header\n"
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


class SingleHost:
    """ASGI middleware: 400 for an HTTP request with two or more Host headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and sum(1 for name, _ in scope["headers"] if name.lower() == b"host") > 1:
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(BODY)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": BODY})
            return
        await self.app(scope, receive, send)


def base_url(request: Request, service: Service, host: str | None = None) -> str:
    """Where result links point: the configured public URL, else the Host the client used (for API
    calls: the Host that was signed, passed as ``host``)."""
    if service.settings.public_url:
        return service.settings.public_url.rstrip("/")
    if host is None:
        host = request.headers.get("host", "")
    scheme = request.url.scheme
    if "://" in host:  # tccli sends `Host: http://127.0.0.1:PORT`
        scheme, host = host.split("://", 1)
        host = host.rstrip("/")
    if not _HOST_RE.match(host):
        server = request.scope.get("server") or ("127.0.0.1", service.settings.port)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}"
