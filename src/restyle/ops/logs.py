"""Structured logs: every line of a call carries its RequestId; ``RESTYLE_LOG_FORMAT=json`` writes one
JSON object per line (ts, level, logger, msg, request_id and any ``extra=`` fields)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from typing import Any

#: the RequestId of the call being answered (copied into worker threads with the context)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("restyle_request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


# scheme://user:password@host -> scheme://user:***@host (Redis, S3 and proxy URLs carry passwords)
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):[^/\s@]*@")


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL replaced by ``***``."""
    return _URL_CREDENTIALS.sub(r"\g<head>:***@", text)


class RequestIdFilter(logging.Filter):
    """Puts the current RequestId on every record (``record.request_id``) and redacts credentials
    (URL passwords) from its message and traceback, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get()
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = redact(record.exc_text)
        return json.dumps(out, ensure_ascii=False)


def configure(fmt: str) -> None:
    """Attach the RequestId filter to every handler; with ``json``, switch their formatter too.

    Covers the root logger and uvicorn's own loggers (which do not propagate).
    """
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")),
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
            if fmt == "json":
                handler.setFormatter(JsonFormatter())
