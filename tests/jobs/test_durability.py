"""Accepted means never lost: kill -9 a node with jobs waiting and running; every job still finishes."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest

from tests.conftest import Server, start_server
from tests.jobs.conftest import GatedImageServer, act, common, restart, wait_for, wait_state
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
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(5)
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
    shared = {
        "jobs_queue": "redis",
        "limiter": "redis",
        "redis_url": redis_server.url,
        "redis_prefix": f"t{uuid.uuid4().hex[:8]}:",
        "lease_ttl_s": 2.0,
        "jobs_lease_s": 1.0,
        "requests_per_second": 1000,
    }
    a = start_server(tmp_path, **shared)
    b = start_server(tmp_path, **shared)
    try:
        ca, cb = common(a), common(b)
        slow = {"InputUrl": gated.url, "LogoAdd": 0}
        ids = [act(ca if i % 2 else cb, "SubmitImageToImageJob", slow)["JobId"] for i in range(8)]
        wait_for(lambda: gated.arrived == 3)  # the account's three slots, on either node
        running = [j for j in ids if act(cb, "QueryImageToImageJob", {"JobId": j})["JobStatusCode"] == "2"]
        assert len(running) == 3
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(5)
        gated.release()
        ends = [wait_state(cb, j, ("4", "5"), timeout=60) for j in ids]
        assert [e["JobStatusCode"] for e in ends] == ["5"] * 8, ends
        # the same JobId answers on either node: the survivor serves every result it made
        assert all(e["ResultImage"] for e in ends)
    finally:
        a.stop()
        b.stop()
