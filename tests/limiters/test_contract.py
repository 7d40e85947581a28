"""The Limiter contract, run over every implementation (in-process and Redis): slots, idempotent
release, hand-off, concurrency, token bucket."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest

from restyle import errors
from restyle.limiters import BaseLimiter
from restyle.limiters import memory as memory_limiter
from tests.scale.backends import RedisServer

pytestmark = pytest.mark.restyle_only

Factory = Callable[..., BaseLimiter]


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[Factory]:
    made: list[BaseLimiter] = []

    def factory(clock: Callable[[], float] | None = None) -> BaseLimiter:
        if request.param == "memory":
            lim: BaseLimiter = memory_limiter.Limiter(clock=clock)
        else:
            from restyle.limiters import redis as redis_limiter

            server: RedisServer = request.getfixturevalue("redis_server")
            # a fresh key space per test, shared by every limiter the test makes (= API nodes)
            prefix = getattr(request.node, "_restyle_prefix", None) or f"t{uuid.uuid4().hex[:8]}:"
            request.node._restyle_prefix = prefix
            lim = redis_limiter.Limiter(server.url, lease_ttl_s=10, prefix=prefix, clock=clock)
        made.append(lim)
        return lim

    yield factory
    for lim in made:
        close = getattr(lim, "close", None)
        if close is not None:
            close()


def test_slots_per_account(make_limiter: Factory) -> None:
    lim = make_limiter()
    leases = [lim.acquire("a", 3) for _ in range(3)]
    with pytest.raises(errors.JobNumExceed):
        lim.acquire("a", 3)
    lim.acquire("b", 3).release()
    assert leases[0].release() and not leases[0].release()
    assert lim.in_use("a") == 2
    lim.acquire("a", 3)


def test_hand_off_and_abandon_release_once(make_limiter: Factory) -> None:
    lim = make_limiter()
    lease = lim.acquire("a", 1)
    assert lease.hand_off()
    assert not lease.release_unless_handed_off()  # the worker owns it
    assert lim.in_use("a") == 1
    assert lease.release()
    assert lim.in_use("a") == 0
    abandoned = lim.acquire("a", 1)
    assert abandoned.release_unless_handed_off()
    assert not abandoned.hand_off()  # a worker that starts late does not run
    assert lim.in_use("a") == 0


def test_concurrent_acquire_never_exceeds_limit(make_limiter: Factory) -> None:
    lim = make_limiter()
    got: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            try:
                lease = lim.acquire("a", 3)
            except errors.JobNumExceed:
                continue
            with lock:
                got.append(lim.in_use("a"))
            lease.release()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got and max(got) <= 3
    assert lim.in_use("a") == 0


def test_token_bucket(make_limiter: Factory) -> None:
    now = [100.0]
    lim = make_limiter(clock=lambda: now[0])
    lim.check_rate("a", 2)
    lim.check_rate("a", 2)
    with pytest.raises(errors.RequestLimitExceeded):
        lim.check_rate("a", 2)
    lim.check_rate("b", 2)
    now[0] += 0.5
    lim.check_rate("a", 2)
    with pytest.raises(errors.RequestLimitExceeded):
        lim.check_rate("a", 2)


def test_fractional_rate(make_limiter: Factory) -> None:
    now = [100.0]
    lim = make_limiter(clock=lambda: now[0])
    lim.check_rate("a", 0.5)  # burst of one
    with pytest.raises(errors.RequestLimitExceeded):
        lim.check_rate("a", 0.5)
    now[0] += 2.0
    lim.check_rate("a", 0.5)
