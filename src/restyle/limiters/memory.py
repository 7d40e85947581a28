"""In-process limiter: a slot counter and a token bucket per account (one API process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from restyle import errors
from restyle.limiters import BaseLimiter, Lease


class Limiter(BaseLimiter):
    name = "memory"

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, int] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, last refill)
        self._clock = clock or time.monotonic

    def acquire(self, account: str, limit: int) -> Lease:
        with self._lock:
            used = self._slots.get(account, 0)
            if used >= limit:
                msg = f"This account already runs {used} jobs; at most {limit} may run at once."
                raise errors.JobNumExceed(msg)
            self._slots[account] = used + 1
        return Lease(account, lambda: self._release(account))

    def _release(self, account: str) -> None:
        with self._lock:
            left = self._slots.get(account, 0) - 1
            if left > 0:
                self._slots[account] = left
            else:
                self._slots.pop(account, None)

    def in_use(self, account: str) -> int:
        with self._lock:
            return self._slots.get(account, 0)

    def check_rate(self, account: str, per_second: float) -> None:
        now = self._clock()
        burst = max(1.0, per_second)
        with self._lock:
            tokens, last = self._buckets.get(account, (burst, now))
            tokens = min(burst, tokens + (now - last) * per_second)
            if tokens < 1.0:
                self._buckets[account] = (tokens, now)
                msg = f"This account sent more than {per_second:g} requests per second."
                raise errors.RequestLimitExceeded(msg)
            self._buckets[account] = (tokens - 1.0, now)
