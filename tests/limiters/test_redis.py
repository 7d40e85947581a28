"""Redis limiter beyond the contract: nodes share slots, leases are renewed while held, a crashed
node's slots come back within the TTL, and an unreachable Redis answers ServerError."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest

from restyle import errors
from tests.conftest import free_port
from tests.loopback import Listener
from tests.scale.backends import RedisServer

redis_limiter = pytest.importorskip("restyle.limiters.redis")
pytestmark = pytest.mark.restyle_only


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def nodes(redis_server: RedisServer, prefix: str) -> Iterator[list[redis_limiter.Limiter]]:
    made = [redis_limiter.Limiter(redis_server.url, lease_ttl_s=0.6, prefix=prefix) for _ in range(2)]
    yield made
    for lim in made:
        lim.close()


def test_nodes_share_slots(nodes: list[redis_limiter.Limiter]) -> None:
    a, b = nodes
    held = [a.acquire("acct", 3), b.acquire("acct", 3), a.acquire("acct", 3)]
    with pytest.raises(errors.JobNumExceed):
        b.acquire("acct", 3)
    assert a.in_use("acct") == b.in_use("acct") == 3
    held[1].release()
    b.acquire("acct", 3)


class FakeClock:
    """Seconds; both nodes read it, so lease expiry is decided by the test, not by waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(
    redis_server: RedisServer, prefix: str
) -> Iterator[tuple[FakeClock, list[redis_limiter.Limiter]]]:
    clock = FakeClock()
    # a long TTL: the background renewer (every TTL/3 of real time) stays out of the way
    made = [
        redis_limiter.Limiter(redis_server.url, lease_ttl_s=60, prefix=prefix, clock=clock) for _ in range(2)
    ]
    yield clock, made
    for lim in made:
        lim.close()


def test_held_leases_are_renewed_past_the_ttl(clocked: tuple[FakeClock, list[redis_limiter.Limiter]]) -> None:
    clock, (a, b) = clocked
    lease = a.acquire("acct", 1)
    for _ in range(5):  # 2.5 TTLs, renewed every half TTL
        clock.now += 30
        assert a.renew_now() == 0
    assert b.in_use("acct") == 1
    with pytest.raises(errors.JobNumExceed):
        b.acquire("acct", 1)
    lease.release()
    assert b.in_use("acct") == 0


def test_crashed_node_slots_come_back_within_ttl(
    clocked: tuple[FakeClock, list[redis_limiter.Limiter]],
) -> None:
    clock, (a, b) = clocked
    for _ in range(3):
        a.acquire("acct", 3)
    a._stop.set()  # the node dies: nobody renews or releases its leases
    clock.now += 59.9
    assert b.in_use("acct") == 3  # not before the TTL ...
    clock.now += 0.2
    assert b.in_use("acct") == 0  # ... but as soon as it has passed
    b.acquire("acct", 3)


def test_the_renewer_thread_renews(nodes: list[redis_limiter.Limiter]) -> None:
    """Real time, short TTL (0.6 s): wait for three renewal rounds (≥ one TTL), not a fixed sleep."""
    a, b = nodes
    a.acquire("acct", 1)
    deadline = time.monotonic() + 10
    while a.renewals < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert a.renewals >= 4, "the renewer did not run"
    assert b.in_use("acct") == 1


def test_close_releases_held_leases(nodes: list[redis_limiter.Limiter]) -> None:
    a, b = nodes
    lease = a.acquire("acct", 2)
    a.acquire("acct", 2)
    a.close()
    assert lease.released
    assert b.in_use("acct") == 0
    assert not lease.release()  # still idempotent after close


def test_unreachable_redis_answers_server_error(prefix: str) -> None:
    lim = redis_limiter.Limiter(f"redis://127.0.0.1:{free_port()}/0", prefix=prefix)
    with pytest.raises(errors.ServerError):
        lim.acquire("acct", 3)
    with pytest.raises(errors.ServerError):
        lim.check_rate("acct", 5)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any connection error
        lim.ready()


def test_outage_fails_fast_and_flips_readiness(prefix: str) -> None:
    """A Redis outage froze the node (2 s per call); now one call finds it, the rest fail at once."""
    listener = Listener("127.0.0.1")  # accepts and hangs up: every connection attempt is counted
    clock = FakeClock()
    lim = redis_limiter.Limiter(
        f"redis://127.0.0.1:{listener.port}/0", prefix=prefix, outage_s=30, monotonic=clock, timeout_s=1
    )
    try:
        with pytest.raises(errors.ServerError):
            lim.acquire("acct", 3)
        tried = listener.connections  # counted before the server hung up, so before acquire returned
        assert tried >= 1
        with pytest.raises(errors.ServerError, match="unreachable"):
            lim.check_rate("acct", 5)
        with pytest.raises(errors.ServerError):
            lim.acquire("acct", 3)
        assert listener.connections == tried  # no connection while the outage lasts
        with pytest.raises(ConnectionError):
            lim.ready()
        clock.now += 31  # the outage window is over: the next call tries Redis again
        with pytest.raises(errors.ServerError):
            lim.acquire("acct", 3)
        assert listener.connections > tried
    finally:
        lim.redis.close()
        listener.stop()


def test_redis_password_is_not_logged(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    lim = redis_limiter.Limiter(f"redis://:hunter2@127.0.0.1:{free_port()}/0", prefix=prefix)
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.ServerError):
        lim.acquire("acct", 3)
    assert "redis limiter at redis://:***@127.0.0.1" in caplog.text
    assert "hunter2" not in caplog.text
    lim.redis.close()
