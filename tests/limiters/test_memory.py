"""In-process limiter: slots, idempotent release, hand-off, token bucket."""

from __future__ import annotations

import threading

import pytest

from restyle import errors
from restyle.limiters.memory import Limiter

pytestmark = pytest.mark.restyle_only


def test_slots_per_account() -> None:
    lim = Limiter()
    leases = [lim.acquire("a", 3) for _ in range(3)]
    with pytest.raises(errors.JobNumExceed):
        lim.acquire("a", 3)
    lim.acquire("b", 3).release()
    assert leases[0].release() and not leases[0].release()
    assert lim.in_use("a") == 2
    lim.acquire("a", 3)


def test_hand_off_and_abandon_release_once() -> None:
    lim = Limiter()
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


def test_concurrent_acquire_never_exceeds_limit() -> None:
    lim = Limiter()
    got: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
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
    assert got and max(got) <= 3  # type: ignore[type-var]
    assert lim.in_use("a") == 0


def test_token_bucket() -> None:
    now = [100.0]
    lim = Limiter(clock=lambda: now[0])
    lim.check_rate("a", 2)
    lim.check_rate("a", 2)
    with pytest.raises(errors.RequestLimitExceeded):
        lim.check_rate("a", 2)
    lim.check_rate("b", 2)
    now[0] += 0.5
    lim.check_rate("a", 2)
