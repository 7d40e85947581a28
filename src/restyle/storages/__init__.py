"""Result storages: where ``RspImgType=url`` results live and how their links are made.

Each file exports ``Storage``. ``local`` (files under the data dir) and ``memory`` serve their results
through restyle's own ``GET /results/{key}`` route with an HMAC-signed, expiring link.
"""

from __future__ import annotations

import hashlib
import hmac
import time


class BaseStorage:
    """Base class. ``put`` stores bytes under a key; ``url_for`` makes a link that expires in ``ttl_s``."""

    name = "base"
    serves_locally = True  # results are served by restyle's /results route

    def put(self, key: str, data: bytes, content_type: str) -> None:
        raise NotImplementedError

    def get(self, key: str) -> bytes | None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def url_for(self, key: str, *, ttl_s: int, base_url: str) -> str:
        raise NotImplementedError

    def sweep(self, *, older_than_s: int) -> int:
        """Delete results older than ``older_than_s``; return how many were removed."""
        return 0


class LinkSigner:
    """HMAC-signed, expiring links for results served by restyle itself."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self.secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def link(self, base_url: str, key: str, ttl_s: int, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + ttl_s)
        return (
            f"{base_url.rstrip('/')}/results/{key}?Expires={expires}&Signature={self.signature(key, expires)}"
        )

    def valid(self, key: str, expires: str, signature: str, now: float | None = None) -> bool:
        if not expires.isdigit():
            return False
        good = hmac.compare_digest(self.signature(key, int(expires)), signature)
        return good and int(expires) >= (now if now is not None else time.time())
