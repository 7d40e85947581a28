"""One contract for every job queue (SQLite file, real Redis server): two Queue objects on one store
act as two nodes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from restyle import errors
from restyle.jobs import CANCELLED, DONE, FAILED, LOST, RUNNING, WAITING, BaseQueue, Finish, JobRecord
from restyle.jobs import redis as redis_queue
from restyle.jobs import sqlite as sqlite_queue
from tests.scale.backends import RedisServer

pytestmark = pytest.mark.restyle_only


@pytest.fixture(params=["sqlite", "redis"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BaseQueue, BaseQueue]]:
    if request.param == "sqlite":
        a: BaseQueue = sqlite_queue.Queue(tmp_path / "jobs.db")
        b: BaseQueue = sqlite_queue.Queue(tmp_path / "jobs.db")
    else:
        srv: RedisServer = request.getfixturevalue("redis_server")
        prefix = f"q{uuid.uuid4().hex[:8]}:"
        a = redis_queue.Queue(srv.url, prefix=prefix, keep_s=600)
        b = redis_queue.Queue(srv.url, prefix=prefix, keep_s=600)
    yield a, b
    a.close()
    b.close()


def rec(account: str = "acct", **kw: object) -> JobRecord:
    return JobRecord(
        job_id=str(uuid.uuid4()), account_id=account, secret_id="AKID", params={"Styles": ["201"]}, **kw
    )  # type: ignore[arg-type]


def test_submit_claim_finish(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    r, created = a.submit(rec(callback_url="http://x/"), max_waiting=10)
    assert created
    got = b.get(r.job_id)
    assert got is not None and got.state == WAITING and got.params == {"Styles": ["201"]}
    assert a.position(got) == 1 and a.waiting_accounts() == ["acct"]
    claimed = b.claim("acct", node="n1", lease_s=5)
    assert claimed is not None and claimed.state == RUNNING and claimed.attempts == 1
    assert a.claim("acct", node="n2", lease_s=5) is None  # nothing else waits
    assert a.heartbeat(r.job_id, node="n1", progress=40, lease_s=5) == (True, False)
    assert a.heartbeat(r.job_id, node="n2", progress=40, lease_s=5) == (False, False)
    assert not a.finish(r.job_id, node="n2", outcome=Finish(DONE, result_key="k.jpg"))
    eff = {"Style": "201", "Seed": 1}
    assert a.finish(
        r.job_id,
        node="n1",
        outcome=Finish(DONE, result_key="k.jpg", result_expires_at=time.time() - 1, effective=eff),
    )
    end = b.get(r.job_id)
    assert end is not None and end.state == DONE and end.progress == 100 and end.effective == eff
    assert end.callback_state == "pending" and b.pending_callbacks() == [r.job_id]
    assert a.expired_results(time.time()) == [(r.job_id, "k.jpg")]
    assert a.clear_result(r.job_id) == "k.jpg" and a.expired_results(time.time()) == []
    a.set_callback_state(r.job_id, "delivered")
    assert b.pending_callbacks() == []


def test_client_token_race_on_two_nodes(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes

    def submit(i: int) -> tuple[str, bool]:
        q = a if i % 2 else b
        r, created = q.submit(rec(client_token="tok"), max_waiting=100)
        return r.job_id, created

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(submit, range(32)))
    assert len({job_id for job_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert a.claim("acct", node="n", lease_s=5) is not None
    assert a.claim("acct", node="n", lease_s=5) is None  # one job, not 32
    other, created = a.submit(rec("other", client_token="tok"), max_waiting=100)
    assert created and other.job_id != results[0][0]


def test_waiting_limit(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    for _ in range(3):
        a.submit(rec(), max_waiting=3)
    with pytest.raises(errors.JobNumExceed):
        b.submit(rec(), max_waiting=3)
    a.submit(rec("someone-else"), max_waiting=3)  # per account


def test_fair_across_accounts(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    for _ in range(100):
        a.submit(rec("big"), max_waiting=1000)
    a.claim("big", node="n", lease_s=5)  # big has been served
    lone, _ = b.submit(rec("small"), max_waiting=1000)
    order = a.waiting_accounts()
    assert order[0] == "small", order  # the account served longest ago (never) goes first
    got = b.claim(order[0], node="n", lease_s=5)
    assert got is not None and got.job_id == lone.job_id
    assert a.waiting_accounts() == ["big"]


def test_cancel_waiting_running_finished(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    w, _ = a.submit(rec(), max_waiting=10)
    r, _ = a.submit(rec(), max_waiting=10)
    after = b.cancel(w.job_id)
    assert after is not None and after.state == FAILED and after.error_code == CANCELLED
    claimed = a.claim("acct", node="n1", lease_s=5)
    assert claimed is not None and claimed.job_id == r.job_id  # the cancelled one is out of line
    running = b.cancel(r.job_id)
    assert running is not None and running.state == RUNNING and running.cancel_requested
    assert a.heartbeat(r.job_id, node="n1", progress=10, lease_s=5) == (True, True)
    assert b.cancel("no-such-job") is None


def test_dead_node_jobs_wait_again_then_fail(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    r, _ = a.submit(rec(), max_waiting=10)
    for attempt in (1, 2):
        got = a.claim("acct", node=f"dead{attempt}", lease_s=0.05)
        assert got is not None and got.attempts == attempt
        time.sleep(0.1)
        assert b.requeue_expired(max_attempts=2) == ([r.job_id] if attempt else [])
        state = b.get(r.job_id)
        assert state is not None
        if attempt == 1:
            assert state.state == WAITING and a.position(state) == 1
    final = b.get(r.job_id)
    assert final is not None and final.state == FAILED and final.error_code == LOST
    assert b.requeue_expired(max_attempts=2) == []


def test_release_puts_job_first_in_line(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    first, _ = a.submit(rec(), max_waiting=10)
    a.submit(rec(), max_waiting=10)
    got = b.claim("acct", node="n", lease_s=5)
    assert got is not None and got.job_id == first.job_id
    assert b.release(first.job_id, node="n")
    again = a.claim("acct", node="m", lease_s=5)
    assert again is not None and again.job_id == first.job_id and again.attempts == 1


def test_queue_position_is_the_start_order_across_accounts(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    """QueuePosition of every waiting job is where it really starts when workers take turns."""
    a, b = nodes
    a.submit(rec("old"), max_waiting=100)
    a.claim("old", node="n", lease_s=60)  # "old" was served: it goes after accounts never served
    jobs = [a.submit(rec(acct), max_waiting=100)[0] for acct in ["big"] * 6 + ["old"] * 3 + ["one"]]
    jobs += [b.submit(rec("big"), max_waiting=100)[0], b.submit(rec("two"), max_waiting=100)[0]]
    jobs.append(b.submit(rec("two"), max_waiting=100)[0])
    predicted = {}
    for r in jobs:
        got = b.get(r.job_id)
        assert got is not None
        predicted[r.job_id] = a.position(got)
    started = []
    while accounts := b.waiting_accounts():  # a worker: the account served longest ago, its oldest job
        claimed = (a if len(started) % 2 else b).claim(accounts[0], node="n", lease_s=60)
        assert claimed is not None
        started.append(claimed.job_id)
    assert len(started) == len(jobs)
    assert [predicted[j] for j in started] == list(range(1, len(jobs) + 1)), predicted
    # the one job of a small account is not behind the big account's many
    one = next(r for r in jobs if r.account_id == "one")
    assert predicted[one.job_id] <= 2
    # not waiting: no position
    running = b.get(started[0])
    assert running is not None and a.position(running) == 0


def test_callback_lease_moves_to_another_node_when_its_node_dies(nodes: tuple[BaseQueue, BaseQueue]) -> None:
    a, b = nodes
    r, _ = a.submit(rec(callback_url="http://x/"), max_waiting=10)
    assert a.claim("acct", node="n1", lease_s=5) is not None
    assert a.finish(r.job_id, node="n1", outcome=Finish(DONE, result_key="k.jpg"))
    assert a.claim_callbacks(node="n1", lease_s=0.3, job_id=r.job_id) == [r.job_id]
    assert b.claim_callbacks(node="n2", lease_s=5) == []  # held by n1
    assert b.claim_callbacks(node="n2", lease_s=5, job_id=r.job_id) == []
    assert a.renew_callback(r.job_id, node="n1", lease_s=0.3)
    assert not b.renew_callback(r.job_id, node="n2", lease_s=5)
    time.sleep(0.4)  # n1 died: its lease runs out
    assert b.claim_callbacks(node="n2", lease_s=5) == [r.job_id]
    assert not a.renew_callback(r.job_id, node="n1", lease_s=5)  # n1 (if only slow) learns it lost it
    assert a.claim_callbacks(node="n1", lease_s=5) == []
    b.set_callback_state(r.job_id, "delivered")
    assert a.pending_callbacks() == [] and a.claim_callbacks(node="n1", lease_s=5) == []
    assert not b.renew_callback(r.job_id, node="n2", lease_s=5)
    # given back on shutdown ("pending" again): claimable at once by anyone
    b.set_callback_state(r.job_id, "pending")
    assert a.claim_callbacks(node="n1", lease_s=5) == [r.job_id]
