"""Redis limiter beyond the contract: nodes share slots, leases are renewed while held, a crashed
node's slots come back within the TTL, and an unreachable Redis answers ServerError."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from restyle import errors
from tests.scale.backends import RedisServer, free_port

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


def test_held_leases_are_renewed_past_the_ttl(nodes: list[redis_limiter.Limiter]) -> None:
    a, b = nodes
    lease = a.acquire("acct", 1)
    time.sleep(1.5)  # 2.5 TTLs
    assert b.in_use("acct") == 1
    with pytest.raises(errors.JobNumExceed):
        b.acquire("acct", 1)
    lease.release()
    assert b.in_use("acct") == 0


def test_crashed_node_slots_come_back_within_ttl(nodes: list[redis_limiter.Limiter]) -> None:
    a, b = nodes
    for _ in range(3):
        a.acquire("acct", 3)
    a._stop.set()  # the node dies: nobody renews or releases its leases
    t0 = time.monotonic()
    while b.in_use("acct") > 0:
        assert time.monotonic() - t0 < 0.6 + 0.5, "slots did not come back within the TTL"
        time.sleep(0.02)
    b.acquire("acct", 3)


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
