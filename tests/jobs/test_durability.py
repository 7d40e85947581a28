"""Accepted means never lost: kill -9 a node with jobs waiting and running; every job still finishes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from restyle.jobs import callbacks
from tests.conftest import Server, start_server
from tests.jobs.conftest import (
    GatedImageServer,
    Receiver,
    act,
    common,
    kill_9,
    redis_nodes,
    restart,
    wait_for,
    wait_state,
)
from tests.jobs.test_wire import small
from tests.scale.backends import RedisServer

pytestmark = pytest.mark.restyle_only


def test_kill_9_single_node_loses_no_job(tmp_path: Path, gated: GatedImageServer) -> None:
    a = start_server(tmp_path, jobs_lease_s=1.0, requests_per_second=1000)
    b: Server | None = None
    try:
        cli = common(a)
        slow = {"InputUrl": gated.url, "LogoAdd": 0}
        ids = [act(cli, "SubmitImageToImageJob", slow)["JobId"] for _ in range(6)]
        wait_for(lambda: gated.arrived == 3)  # three running (held at the download), three waiting
        states = [act(cli, "QueryImageToImageJob", {"JobId": j})["JobStatusCode"] for j in ids]
        assert sorted(states) == ["1", "1", "1", "2", "2", "2"], states
        kill_9(a)
        gated.release()
        b = restart(a)
        cli = common(b)
        ends = [wait_state(cli, j, ("4", "5"), timeout=60) for j in ids]
        assert [e["JobStatusCode"] for e in ends] == ["5"] * 6, ends
        assert gated.arrived >= 6  # the three that were running ran again
    finally:
        a.stop()
        if b is not None:
            b.stop()


def test_kill_9_one_of_two_redis_nodes_loses_no_job(
    tmp_path: Path, gated: GatedImageServer, redis_server: RedisServer
) -> None:
    shared = redis_nodes(redis_server)
    a = start_server(tmp_path, **shared)
    b = start_server(tmp_path, **shared)
    try:
        ca, cb = common(a), common(b)
        slow = {"InputUrl": gated.url, "LogoAdd": 0}
        ids = [act(ca if i % 2 else cb, "SubmitImageToImageJob", slow)["JobId"] for i in range(8)]
        wait_for(lambda: gated.arrived == 3)  # the account's three slots, on either node
        running = [j for j in ids if act(cb, "QueryImageToImageJob", {"JobId": j})["JobStatusCode"] == "2"]
        assert len(running) == 3
        kill_9(a)
        gated.release()
        ends = [wait_state(cb, j, ("4", "5"), timeout=60) for j in ids]
        assert [e["JobStatusCode"] for e in ends] == ["5"] * 8, ends
        # the same JobId answers on either node: the survivor serves every result it made
        assert all(e["ResultImage"] for e in ends)
    finally:
        a.stop()
        b.stop()


def test_kill_9_callback_sender_the_other_redis_node_delivers(
    tmp_path: Path, redis_server: RedisServer, receiver: Receiver
) -> None:
    """A callback being retried by a node that dies (kill -9) is taken over by the other node."""
    shared = redis_nodes(redis_server, callback_backoff_s=0.3, callback_attempts=30)
    receiver.statuses = [503] * 10_000  # the receiver refuses while node a tries
    a = start_server(tmp_path, **shared)
    b: Server | None = None
    try:
        cli = common(a)
        job_id = act(cli, "SubmitImageToImageJob", small(CallbackUrl=receiver.url))["JobId"]
        wait_for(lambda: len(receiver.received) >= 1, timeout=30)  # a ran the job and holds the callback
        b = start_server(tmp_path, **shared)
        tried_by_a = len(receiver.received)
        assert "callback taken over" not in b.log()  # a is alive: b leaves it alone
        kill_9(a)
        receiver.statuses.clear()  # from now on the receiver accepts
        wait_for(lambda: f"job {job_id}: callback delivered" in b.log(), timeout=20)
        assert f"job {job_id}: callback taken over" in b.log()
        assert len(receiver.received) > tried_by_a
        got = receiver.received[-1]
        assert got.headers["x-restyle-job-id"] == job_id
        assert callbacks.verify(a.secret_key, got.body, got.headers["x-restyle-signature"])
        body = json.loads(got.body)["Response"]
        assert body["JobId"] == job_id and body["JobStatusCode"] == "5" and body["ResultImage"]
        # delivered once by b, then never again
        n = len(receiver.received)
        time.sleep(1.5)
        assert len(receiver.received) == n
    finally:
        a.stop()
        if b is not None:
            b.stop()
