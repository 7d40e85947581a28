"""Unit tests of restyle.ops: the counting compute gate, metrics rendering, JSON log lines."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from restyle.limiters.memory import Limiter
from restyle.ops import logs
from restyle.ops.metrics import CountingGate, Metrics
from tests.scale.test_ops import metric

pytestmark = pytest.mark.restyle_only


def test_counting_gate_counts_waiters_and_forgets_quitters() -> None:
    gate = CountingGate(1)
    assert gate.acquire()
    stop = threading.Event()

    def poll_like_the_pipeline() -> None:
        while not stop.is_set():
            if gate.acquire(timeout=0.02):
                gate.release()
                return

    threads = [threading.Thread(target=poll_like_the_pipeline) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    assert gate.waiting == 3 and gate.busy == 1
    stop.set()  # the jobs give up (timeout) without getting in
    for t in threads:
        t.join()
    time.sleep(CountingGate.STALE_S + 0.05)
    assert gate.waiting == 0
    gate.release()
    with gate:  # the context manager goes through the counting acquire
        assert gate.busy == 1
    assert gate.busy == 0 and gate.waiting == 0


def test_metrics_render_and_slots_in_use() -> None:
    gate = CountingGate(2)
    m = Metrics(gate=gate)
    lim = Limiter()
    lease = lim.acquire("a", 3)
    m.track_lease(lease)
    m.observe_call(
        action="ImageToImage", code="OK", style="201", engine="classic", seconds=0.2, result_bytes=5000
    )
    m.observe_call(action="", code="InvalidAction")
    text = m.render()[0].decode()
    assert metric(text, "restyle_requests_total", action="ImageToImage", code="OK") == 1
    assert metric(text, "restyle_requests_total", action="unknown", code="InvalidAction") == 1
    assert metric(text, "restyle_job_seconds_bucket", style="201", engine="classic", le="0.25") == 1
    assert metric(text, "restyle_result_bytes_sum", rsp_img_type="base64") == 5000
    assert metric(text, "restyle_slots_in_use") == 1
    lease.release()
    assert metric(m.render()[0].decode(), "restyle_slots_in_use") == 0
    assert Metrics().registry is not m.registry  # one registry per app: no clashes between apps


def test_json_formatter_carries_request_id_and_extras() -> None:
    record = logging.LogRecord("restyle.api", logging.INFO, __file__, 1, "done %s", ("x",), None)
    token = logs.REQUEST_ID.set("req-123")
    try:
        assert logs.RequestIdFilter().filter(record)
    finally:
        logs.REQUEST_ID.reset(token)
    record.code = "OK"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "done x" and line["request_id"] == "req-123" and line["code"] == "OK"
    assert line["level"] == "INFO" and line["logger"] == "restyle.api" and line["ts"].endswith("Z")
