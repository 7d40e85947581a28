"""A least-recently-used cache bounded by the bytes it holds, not by its number of entries.

The key store caches lookups (hits and misses) for a short time. Keys of the cache come from the
network (a SecretId), so a bound on entries is no bound at all: 10,000 entries of 9.5 MB each is
95 GB. Each entry here is charged ``sys.getsizeof`` of its key plus the size its owner declares for
the value plus a fixed overhead for the bookkeeping; the least recently used entries are dropped
until the total fits. An entry larger than the whole budget is not stored.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

#: bytes charged per entry for the OrderedDict node, the tuple and the float (measured: ~200 B)
ENTRY_OVERHEAD = 256


class ByteLRU(Generic[V]):
    """Thread-safe LRU of ``str → V`` holding at most ``max_bytes`` (approximately) for ``ttl_s``."""

    def __init__(self, max_bytes: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float, V, int]] = OrderedDict()
        self._bytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes charged for what the cache holds now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> tuple[bool, V | None]:
        """(found, value); an expired entry is dropped and not found."""
        now = self._clock()
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return False, None
            stored, value, _ = entry
            if now - stored >= self.ttl_s:
                self._drop(key)
                return False, None
            self._data.move_to_end(key)
            return True, value

    def put(self, key: str, value: V, value_bytes: int = 0) -> bool:
        """Store ``value``; False (and nothing stored) when the entry alone exceeds the budget."""
        size = sys.getsizeof(key) + value_bytes + ENTRY_OVERHEAD
        with self._lock:
            self._drop(key)
            if size > self.max_bytes:
                return False
            self._data[key] = (self._clock(), value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                oldest = next(iter(self._data))
                self._drop(oldest)
            return True

    def pop(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= entry[2]
