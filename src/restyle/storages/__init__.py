"""Result storages: where ``RspImgType=url`` results live and how their links are made.

Each file exports ``Storage``. ``local`` (files under the data dir) and ``memory`` serve their results
through restyle's own ``GET /results/{key}`` route with an HMAC-signed, expiring link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import TYPE_CHECKING, Self

from restyle.plugins import Plugin

if TYPE_CHECKING:
    from restyle.config import Settings


#: short names an operator may set in the settings (or a dotted path ``module:Class``)
REGISTRY = {
    "local": "restyle.storages.local:Storage",
    "memory": "restyle.storages.memory:Storage",
    "s3": "restyle.storages.s3:Storage",
}


class BaseStorage(Plugin):
    """Base class. ``put`` stores bytes under a key; ``url_for`` makes a link that expires in ``ttl_s``."""

    serves_locally = True  # results are served by restyle's /results route

    @classmethod
    def from_settings(cls, settings: Settings, signer: LinkSigner | None = None) -> Self:
        """Build with the node's link ``signer`` (the default passes it as the only argument)."""
        return cls(needs_signer(cls.name, signer))  # type: ignore[call-arg]

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


_EXPIRES_RE = re.compile(r"[0-9]{1,12}")  # ASCII digits only, a unix time with room to spare
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")


class LinkSigner:
    """HMAC-signed, expiring links for results served by restyle itself.

    The secret must be at least 32 bytes: an empty or short key would let anyone forge links.
    Anything malformed in a link (non-ASCII or over-long ``Expires``, a signature that is not 64
    lowercase hex digits) is simply invalid, never an exception.
    """

    MIN_SECRET_BYTES = 32

    def __init__(self, secret: bytes) -> None:
        if len(secret) < self.MIN_SECRET_BYTES:
            msg = f"the link secret is {len(secret)} bytes; at least {self.MIN_SECRET_BYTES} are required"
            raise ValueError(msg)
        self.secret = secret

    def signature(self, key: str, expires: int) -> str:
        return hmac.new(self.secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def link(self, base_url: str, key: str, ttl_s: int, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + ttl_s)
        return (
            f"{base_url.rstrip('/')}/results/{key}?Expires={expires}&Signature={self.signature(key, expires)}"
        )

    def expires_at(self, key: str, expires: str, signature: str, now: float | None = None) -> int | None:
        """The link's expiry (unix seconds) if it is well-formed, correctly signed and unexpired."""
        if not _EXPIRES_RE.fullmatch(expires) or not _SIGNATURE_RE.fullmatch(signature):
            return None
        at = int(expires)
        good = hmac.compare_digest(self.signature(key, at).encode("ascii"), signature.encode("ascii"))
        if not good or at < (now if now is not None else time.time()):
            return None
        return at

    def valid(self, key: str, expires: str, signature: str, now: float | None = None) -> bool:
        return self.expires_at(key, expires, signature, now) is not None


def needs_signer(name: str, signer: LinkSigner | None) -> LinkSigner:
    """Storages that serve through /results sign their links: building one without a signer is a bug."""
    if signer is None:
        msg = f"storage {name} needs the node's link signer"
        raise TypeError(msg)
    return signer
