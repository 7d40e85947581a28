"""Admission in Redis, shared by every API node: job leases with a TTL, and a token bucket per account.

Job slots are members of a sorted set per account, scored by their expiry time (Redis server clock,
so nodes need not agree on time). A lease is renewed every ``ttl / 3`` by a background thread while
its job runs; when a node dies its leases stop being renewed and the slots come back within the TTL.
Every check-and-change is one Lua script, so two nodes can never both take the last slot.

Keys (``prefix`` defaults to ``restyle:``)::

    {prefix}jobs:{account}   ZSET  lease id -> expiry (ms)
    {prefix}rate:{account}   HASH  tokens, ts (ms)

Needs ``pip install restyle[redis]``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from restyle import errors
from restyle.limiters import BaseLimiter, Lease
from restyle.ops import logs

try:
    import redis
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "limiter 'redis' needs `pip install restyle[redis]`"
    raise ImportError(msg) from exc

log = logging.getLogger("restyle.limiters.redis")

# now in ms: ARGV "now" when the caller gives one (tests with a fake clock), else the server's clock
_NOW = """
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS[1] jobs zset; ARGV: now, ttl_ms, limit, lease id  ->  {1, used} or {0, used}
ACQUIRE = (
    _NOW
    + """
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[3]) then
  return {0, used}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return {1, used + 1}
"""
)

# KEYS: jobs zsets; ARGV: now, ttl_ms, lease ids (same order as KEYS) -> list of 1 (renewed) / 0 (lost)
RENEW = (
    _NOW
    + """
local ttl = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local id = ARGV[i + 2]
  local score = redis.call('ZSCORE', key, id)
  if score and tonumber(score) > now then
    redis.call('ZADD', key, 'XX', now + ttl, id)
    redis.call('PEXPIRE', key, ttl * 2)
    out[i] = 1
  else
    redis.call('ZREM', key, id)
    out[i] = 0
  end
end
return out
"""
)

# KEYS[1] jobs zset; ARGV: now -> live leases
IN_USE = (
    _NOW
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
)

# KEYS[1] bucket hash; ARGV: now, rate per second, burst -> 1 allowed / 0 refused
RATE = (
    _NOW
    + """
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
local elapsed = math.max(0, now - last)
tokens = math.min(burst, tokens + elapsed * rate / 1000)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok
"""
)


class Limiter(BaseLimiter):
    """Per-account job leases (TTL, renewed while held) and request rate, in one Redis."""

    name = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        lease_ttl_s: float = 10.0,
        prefix: str = "restyle:",
        clock: Callable[[], float] | None = None,
        client: Any = None,
        timeout_s: float = 2.0,
        outage_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if lease_ttl_s <= 0:
            msg = f"lease_ttl_s must be > 0, got {lease_ttl_s}"
            raise ValueError(msg)
        self.url = logs.redact(url)  # for log lines: never the password
        self.ttl_ms = max(1, int(lease_ttl_s * 1000))
        self.prefix = prefix
        self._clock = clock
        self.redis: Any = client or redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=30
        )
        # after a failure, calls fail fast (no connection attempt) for ``outage_s``; then one call
        # tries again. While Redis is out the node reports itself not ready.
        self.outage_s = outage_s
        self._monotonic = monotonic
        self._down_until = 0.0
        self._down_reason = ""
        self._acquire = self.redis.register_script(ACQUIRE)
        self._renew = self.redis.register_script(RENEW)
        self._in_use = self.redis.register_script(IN_USE)
        self._rate = self.redis.register_script(RATE)
        self._held: dict[str, tuple[str, Lease]] = {}  # lease id -> (zset key, lease)
        self.renewals = 0  # renewal rounds done (tests wait on it instead of sleeping)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Limiter:
        return cls(
            settings.redis_url,
            lease_ttl_s=settings.lease_ttl_s,
            prefix=settings.redis_prefix,
            timeout_s=settings.redis_timeout_s,
            outage_s=settings.redis_outage_s,
        )

    # --- helpers ----------------------------------------------------------------------------------
    def _now(self) -> int:
        return int(self._clock() * 1000) if self._clock is not None else -1

    def _key(self, kind: str, account: str) -> str:
        return f"{self.prefix}{kind}:{account}"

    def down(self) -> bool:
        """True while a recent failure says Redis is out (calls fail fast, readiness fails)."""
        return self._monotonic() < self._down_until

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        msg = "The admission service is unreachable; retry the call."
        if self.down():
            raise errors.ServerError(msg)
        try:
            out = script(keys=keys, args=[self._now(), *args])
        except redis.RedisError as exc:
            self._down_until = self._monotonic() + self.outage_s
            self._down_reason = type(exc).__name__
            log.error("redis limiter at %s failed: %s", self.url, logs.redact(str(exc)))
            raise errors.ServerError(msg) from exc
        self._down_until = 0.0
        return out

    # --- Limiter interface ------------------------------------------------------------------------
    def acquire(self, account: str, limit: int) -> Lease:
        key = self._key("jobs", account)
        lease_id = uuid.uuid4().hex
        ok, used = self._call(self._acquire, [key], [self.ttl_ms, limit, lease_id])
        if not ok:
            msg = f"This account already runs {used} jobs; at most {limit} may run at once."
            raise errors.JobNumExceed(msg)
        lease = Lease(account, lambda: self._release(key, lease_id))
        with self._lock:
            self._held[lease_id] = (key, lease)
            self._start_renewer()
        return lease

    def _release(self, key: str, lease_id: str) -> None:
        with self._lock:
            self._held.pop(lease_id, None)
        try:
            self.redis.zrem(key, lease_id)
        except redis.RedisError as exc:  # the lease expires by itself within the TTL
            log.warning(
                "could not release lease %s (%s); it expires within %d ms", lease_id, exc, self.ttl_ms
            )

    def in_use(self, account: str) -> int:
        return int(self._call(self._in_use, [self._key("jobs", account)], []))

    def check_rate(self, account: str, per_second: float) -> None:
        burst = max(1.0, per_second)
        if not self._call(self._rate, [self._key("rate", account)], [repr(per_second), repr(burst)]):
            msg = f"This account sent more than {per_second:g} requests per second."
            raise errors.RequestLimitExceeded(msg)

    # --- operations -------------------------------------------------------------------------------
    def ready(self) -> None:
        """Raise if Redis does not answer, or failed a call within the last ``outage_s`` (readiness)."""
        if self.down():
            msg = f"redis failed a call ({self._down_reason}); retrying after the outage window"
            raise ConnectionError(msg)
        self.redis.ping()

    def held(self) -> int:
        """Leases this process holds right now."""
        with self._lock:
            return len(self._held)

    def renew_now(self) -> int:
        """Renew every held lease once; return how many were lost (expired before renewal)."""
        with self._lock:
            items = list(self._held.items())
        if not items:
            return 0
        keys = [key for _, (key, _) in items]
        ids = [lease_id for lease_id, _ in items]
        result = self._renew(keys=keys, args=[self._now(), self.ttl_ms, *ids])
        self.renewals += 1
        lost = 0
        for (lease_id, (_, lease)), ok in zip(items, result, strict=True):
            if not ok and not lease.released:
                lost += 1
                with self._lock:
                    self._held.pop(lease_id, None)
                log.warning("lease %s of account %s expired before it was renewed", lease_id, lease.account)
        return lost

    def _start_renewer(self) -> None:  # called with self._lock held
        if self._renewer is None or not self._renewer.is_alive():
            self._stop.clear()
            self._renewer = threading.Thread(
                target=self._renew_loop, name="restyle-lease-renewer", daemon=True
            )
            self._renewer.start()

    def _renew_loop(self) -> None:
        interval = self.ttl_ms / 3000
        while not self._stop.wait(interval):
            try:
                self.renew_now()
            except redis.RedisError as exc:
                log.warning("lease renewal failed: %s", exc)
            with self._lock:
                if not self._held:
                    self._renewer = None
                    return

    def close(self) -> None:
        """Release every lease this process still holds and stop the renewer (graceful shutdown)."""
        with self._lock:
            leases = [lease for _, lease in self._held.values()]
        for lease in leases:
            lease.release()
        self._stop.set()
        renewer = self._renewer
        if renewer is not None and renewer is not threading.current_thread():
            renewer.join(timeout=2)
        self.redis.close()
