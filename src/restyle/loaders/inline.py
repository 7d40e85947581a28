"""Base64 text → bytes. Accepts the variants clients send: a ``data:`` prefix, line breaks and spaces,
the URL-safe alphabet and missing padding. Anything else is ``FailedOperation.ImageDecodeFailed``."""

from __future__ import annotations

import base64
import binascii
import re

from restyle import errors
from restyle.loaders import BaseLoader
from restyle.pipeline.job import ImageRef

_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w=.+-]+)*;base64,", re.IGNORECASE)
_WS = re.compile(rb"\s+")


def decode_base64(text: str, *, max_bytes: int) -> bytes:
    if len(text) >= max_bytes:
        msg = f"The base64 image is {len(text)} bytes; it must be under {max_bytes}."
        raise errors.ImageSizeExceed(msg)
    m = _DATA_URL.match(text)
    if m:
        text = text[m.end() :]
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        msg = "The image is not valid base64 (non-ASCII characters)."
        raise errors.ImageDecodeFailed(msg) from None
    raw = _WS.sub(b"", raw)
    if b"-" in raw or b"_" in raw:
        raw = raw.translate(bytes.maketrans(b"-_", b"+/"))
    raw += b"=" * (-len(raw) % 4)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        msg = "The image is not valid base64."
        raise errors.ImageDecodeFailed(msg) from None
    if not data:
        msg = "The base64 image decodes to zero bytes."
        raise errors.ImageDecodeFailed(msg)
    return data


class Loader(BaseLoader):
    name = "inline"

    def load(self, ref: ImageRef, *, max_bytes: int, deadline_s: float) -> bytes:
        return decode_base64(ref.base64 or "", max_bytes=max_bytes)
