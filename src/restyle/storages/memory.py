"""Results kept in process memory (tests, ephemeral deployments); same signed links as ``local``."""

from __future__ import annotations

import threading
import time

from restyle.storages import BaseStorage, LinkSigner


class Storage(BaseStorage):
    name = "memory"

    def __init__(self, signer: LinkSigner) -> None:
        self.signer = signer
        self._items: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self._items[key] = (time.time(), data)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
        return item[1] if item else None

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def url_for(self, key: str, *, ttl_s: int, base_url: str) -> str:
        return self.signer.link(base_url, key, ttl_s)

    def sweep(self, *, older_than_s: int) -> int:
        cutoff = time.time() - older_than_s
        with self._lock:
            old = [k for k, (t, _) in self._items.items() if t < cutoff]
            for k in old:
                del self._items[k]
        return len(old)
