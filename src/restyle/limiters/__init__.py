"""Admission limiters: per-account concurrent job slots and request rate.

``acquire(account)`` returns a :class:`Lease` or raises ``RequestLimitExceeded.JobNumExceed``;
``Lease.release()`` is idempotent and thread-safe, so the worker thread and the request handler can
both call it and a slot is released exactly once, whatever happens to the job.
``check_rate(account)`` raises ``RequestLimitExceeded`` past the per-account request rate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from restyle.plugins import Plugin


class Lease:
    """One job slot; released once."""

    def __init__(self, account: str, on_release: Callable[[], None]) -> None:
        self.account = account
        self._on_release = on_release
        self._lock = threading.Lock()
        self.released = False
        self.handed_off = False  # a worker thread owns the release from now on

    def release(self) -> bool:
        return self._release(unless_handed_off=False)

    def release_unless_handed_off(self) -> bool:
        """Release now unless a worker already owns the release (it will release when it stops)."""
        return self._release(unless_handed_off=True)

    def _release(self, *, unless_handed_off: bool) -> bool:
        """True when this call released the slot (exactly one call does)."""
        with self._lock:
            if self.released or (unless_handed_off and self.handed_off):
                return False
            self.released = True
        self._on_release()
        return True

    def hand_off(self) -> bool:
        """Called by the worker as it starts; False if the slot was already released (job abandoned)."""
        with self._lock:
            if self.released:
                return False
            self.handed_off = True
            return True


#: short names an operator may set in the settings (or a dotted path ``module:Class``)
REGISTRY = {"memory": "restyle.limiters.memory:Limiter", "redis": "restyle.limiters.redis:Limiter"}


class BaseLimiter(Plugin):
    def acquire(self, account: str, limit: int) -> Lease:
        raise NotImplementedError

    def check_rate(self, account: str, per_second: float) -> None:
        raise NotImplementedError

    def in_use(self, account: str) -> int:
        raise NotImplementedError
