"""Runner upkeep and progress, on a real SQLite queue and local result storage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from restyle.jobs import DONE, Finish, JobRecord, callbacks
from restyle.jobs.runner import STEP_START, ResultStore, Runner, TrackedJob
from restyle.jobs.sqlite import Queue
from restyle.loaders.http import Loader
from restyle.pipeline.job import ImageRef
from restyle.storages import LinkSigner
from restyle.storages.local import Storage
from tests.jobs.conftest import Receiver

pytestmark = pytest.mark.restyle_only


def test_expired_results_are_swept(tmp_path: Path) -> None:
    queue = Queue(tmp_path / "jobs.db")
    signer = LinkSigner(b"k" * 32)
    results = ResultStore(Storage(tmp_path / "job-results", signer), signer)
    runner = Runner(
        service=None,
        queue=queue,
        results=results,
        workers=0,
        lease_s=5,
        max_attempts=3,
        poll_s=0.1,
        keep_s=86400,
    )
    keys = {}
    for name, ttl in (("old", -1.0), ("young", 3600.0)):
        rec = JobRecord(job_id=name, account_id="a", secret_id="s", params={})
        queue.submit(rec, max_waiting=10)
        assert queue.claim("a", node=runner.node, lease_s=5) is not None
        key = f"{name}-result-key-0123456789.jpg"
        results.storage.put(key, b"jpeg", "image/jpeg")
        queue.finish(
            name, node=runner.node, outcome=Finish(DONE, result_key=key, result_expires_at=time.time() + ttl)
        )
        keys[name] = key
    runner._upkeep_once()
    assert results.storage.get(keys["old"]) is None and results.storage.get(keys["young"]) == b"jpeg"
    old = queue.get("old")
    assert old is not None and old.result_key is None and old.state == DONE
    url = results.url(keys["young"], expires_at=time.time() + 60, base_url="http://h")
    expires, sig = url.split("Expires=")[1].split("&Signature=")
    assert results.valid(keys["young"], expires, sig)
    assert not results.valid(keys["old"], expires, sig)  # a link names its key
    assert not results.valid(keys["young"], str(int(time.time()) - 1), sig)
    queue.close()


def test_progress_follows_steps_and_engine_ticks() -> None:
    job = TrackedJob(request_id="r", source=ImageRef(base64="x"), engine_ticks_expected=10)
    seen = []
    for step in STEP_START:
        job.enter_step(step)
        if step == "stylize":
            for _ in range(10):
                job.engine_checkpoint()
                seen.append(job.progress)
        seen.append(job.progress)
    assert seen == sorted(seen) and seen[0] == 0 and 80 <= max(seen) < 100
    job.stop("cancel")
    with pytest.raises(Exception, match="budget"):
        job.checkpoint()
    assert job.cancel_reason == "cancel"


def _finished_with_callback(path: Path, receiver: Receiver, *, node: str) -> Queue:
    """A queue at ``path`` holding job j1, run and finished by ``node``, its callback to ``receiver`` pending."""
    queue = Queue(path)
    rec = JobRecord(job_id="j1", account_id="a", secret_id="s", params={}, callback_url=receiver.url)
    queue.submit(rec, max_waiting=10)
    assert queue.claim("a", node=node, lease_s=5) is not None
    assert queue.finish("j1", node=node, outcome=Finish(DONE))
    return queue


def _sender(path: Path, **kw: Any) -> callbacks.Callbacks:
    """A callback sender on its own connection to the queue at ``path`` (as another process would have)."""
    return callbacks.Callbacks(
        queue=Queue(path),
        loader=Loader(allowlist=["127.0.0.1"]),
        secret_for=lambda sid: "secret",
        answer=lambda r: {"JobStatusCode": r.state},
        timeout_s=5,
        lease_s=0.3,
        **kw,
    )


def test_callback_of_a_dead_sender_is_taken_over(tmp_path: Path, receiver: Receiver) -> None:
    """SQLite, two processes' worth of senders on one file: the one alive delivers what the dead held."""
    queue = _finished_with_callback(tmp_path / "jobs.db", receiver, node="dead")
    assert queue.claim_callbacks(node="dead", lease_s=0.5, job_id="j1") == ["j1"]  # then kill -9
    alive = _sender(tmp_path / "jobs.db", backoff_s=0.05)
    alive.start()
    try:
        assert alive.inflight() == 0  # the dead node's lease still runs
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.received, "the callback was not taken over"
        got = receiver.received[0]
        assert callbacks.verify("secret", got.body, got.headers["x-restyle-signature"])
        assert receiver.json(0)["Response"]["JobStatusCode"] == "5"
        while queue.pending_callbacks() and time.monotonic() < deadline:
            time.sleep(0.02)
        final = queue.get("j1")
        assert final is not None and final.callback_state == "delivered"
    finally:
        alive.stop()


def test_a_sender_that_lost_its_lease_stops(tmp_path: Path, receiver: Receiver) -> None:
    """A node too slow to renew (another took the callback over) stops trying: one sender at a time."""
    receiver.statuses = [503] * 10_000
    queue = _finished_with_callback(tmp_path / "jobs.db", receiver, node="n")
    slow = _sender(tmp_path / "jobs.db", attempts=10_000, backoff_s=0.02)
    slow.start()
    try:
        deadline = time.monotonic() + 10
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.inflight() == 1
        queue.set_callback_state("j1", "pending")  # as if its lease had run out...
        assert queue.claim_callbacks(node="other", lease_s=60) == ["j1"]  # ...and another node took it
        while slow.inflight() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow.inflight() == 0
        n = len(receiver.received)
        time.sleep(0.5)
        assert len(receiver.received) == n  # it stopped sending
        final = queue.get("j1")
        assert final is not None and final.callback_state == "pending"  # the other node's to send
    finally:
        slow.stop()
