"""The only place that turns results and errors into API 3.0 JSON envelopes.

Every reply is HTTP 200 with ``Content-Type: application/json`` exactly (the SDK compares the header
as a string), and carries ``Response.RequestId``; errors carry both ``Error.Code`` and ``Error.Message``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from restyle.errors import TencentError

CONTENT_TYPE = "application/json"
MAX_MESSAGE_CHARS = 1000


class JSONEnvelope(Response):
    """A response whose Content-Type is exactly ``application/json`` (Starlette would add a charset)."""

    media_type = None

    def __init__(self, body: bytes, request_id: str) -> None:
        super().__init__(content=body, status_code=200, headers={"Content-Type": CONTENT_TYPE})
        self.headers["X-TC-RequestId"] = request_id


def _utf8(text: str) -> bytes:
    """UTF-8, with lone surrogates (echoed from a client's ``\\ud800`` escapes) kept as JSON escapes."""
    return text.encode("utf-8", "backslashreplace")


def success_body(fields: dict[str, Any], request_id: str) -> bytes:
    return _utf8(json.dumps({"Response": {**fields, "RequestId": request_id}}, ensure_ascii=False))


def error_body(error: TencentError, request_id: str) -> bytes:
    message = error.detail  # echoed values are already cut (restyle.untrusted.shown); this is a backstop
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    payload = {"Response": {"Error": {"Code": error.code, "Message": message}, "RequestId": request_id}}
    return _utf8(json.dumps(payload, ensure_ascii=False))


def success(fields: dict[str, Any], request_id: str) -> JSONEnvelope:
    return JSONEnvelope(success_body(fields, request_id), request_id)


def error(err: TencentError, request_id: str) -> JSONEnvelope:
    return JSONEnvelope(error_body(err, request_id), request_id)
