"""Requests with more than one Host header are refused with 400 (RFC 9112 §3.2).

A signature is checked against one Host and a result link is built from a Host; with two of them a
client could have the link point at another host than the one it signed. No route sees such a request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

BODY = b"Bad Request: more than one Host header\n"


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
