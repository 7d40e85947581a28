"""Prometheus metrics of one API node, in a registry of its own (``GET /metrics``).

=====================================  =====================================================
restyle_requests_total{action,code}    API calls answered, by action and wire code (OK = success)
restyle_job_seconds{style,engine}      latency of successful jobs (pipeline time)
restyle_result_bytes{rsp_img_type}     size of delivered results
restyle_slots_in_use                   job slots (leases) this node holds now
restyle_compute_queue_depth            jobs waiting for the compute gate
restyle_compute_busy                   jobs holding a compute slot
restyle_inflight_calls                 API calls being answered now
restyle_draining                       1 while the node drains after SIGTERM
=====================================  =====================================================
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from restyle.limiters import Lease

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BYTES_BUCKETS = tuple(float(16 * 1024 * 4**i) for i in range(6))  # 16 KiB .. 16 MiB


class CountingGate(threading.BoundedSemaphore):
    """The compute gate (a bounded semaphore) that also counts the threads waiting for it.

    The pipeline polls the gate (``acquire(timeout=0.05)`` between budget checks), so a thread counts
    as waiting while it is inside ``acquire`` or tried less than ``STALE_S`` ago without getting in;
    a job that gives up (timeout) drops out of the count by itself.
    """

    STALE_S = 0.25

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self.size = value
        self._count_lock = threading.Lock()
        self._tries: dict[int, tuple[bool, float]] = {}  # thread -> (inside acquire, last attempt)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        me = threading.get_ident()
        with self._count_lock:
            self._tries[me] = (True, time.monotonic())
        got = False
        try:
            got = super().acquire(blocking, timeout)
        finally:
            with self._count_lock:
                if got:
                    self._tries.pop(me, None)
                else:
                    self._tries[me] = (False, time.monotonic())
        return got

    __enter__ = acquire

    @property
    def waiting(self) -> int:
        now = time.monotonic()
        with self._count_lock:
            stale = [
                t for t, (inside, last) in self._tries.items() if not inside and now - last > self.STALE_S
            ]
            for t in stale:
                del self._tries[t]
            return len(self._tries)

    @property
    def busy(self) -> int:
        return self.size - int(self._value)  # type: ignore[attr-defined]


class Metrics:
    """The node's collectors. ``observe_call`` is fed once per API call by the app."""

    def __init__(self, *, gate: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "restyle_requests", "API calls answered, by action and wire code.", ["action", "code"], registry=r
        )
        self.job_seconds = Histogram(
            "restyle_job_seconds",
            "Latency of successful jobs (pipeline time), by style and engine.",
            ["style", "engine"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.result_bytes = Histogram(
            "restyle_result_bytes",
            "Size of delivered results.",
            ["rsp_img_type"],
            buckets=BYTES_BUCKETS,
            registry=r,
        )
        self._leases: weakref.WeakSet[Lease] = weakref.WeakSet()
        self._lease_lock = threading.Lock()
        Gauge("restyle_slots_in_use", "Job slots this node holds now.", registry=r).set_function(
            self.slots_in_use
        )
        queue = Gauge("restyle_compute_queue_depth", "Jobs waiting for the compute gate.", registry=r)
        busy = Gauge("restyle_compute_busy", "Jobs holding a compute slot.", registry=r)
        if gate is not None and hasattr(gate, "waiting"):
            queue.set_function(lambda: float(gate.waiting))
            busy.set_function(lambda: float(gate.busy))
        self.inflight = Gauge("restyle_inflight_calls", "API calls being answered now.", registry=r)
        self.draining = Gauge("restyle_draining", "1 while the node drains after SIGTERM.", registry=r)

    def track_lease(self, lease: Lease) -> None:
        with self._lease_lock:
            self._leases.add(lease)

    def slots_in_use(self) -> float:
        with self._lease_lock:
            leases = list(self._leases)
        return float(sum(1 for lease in leases if not lease.released))

    def observe_call(
        self,
        *,
        action: str,
        code: str,
        style: str | None = None,
        engine: str | None = None,
        seconds: float | None = None,
        result_bytes: int | None = None,
        rsp_img_type: str = "base64",
    ) -> None:
        self.requests.labels(action or "unknown", code).inc()
        if seconds is not None and style is not None:
            self.job_seconds.labels(style, engine or "unknown").observe(seconds)
        if result_bytes is not None:
            self.result_bytes.labels(rsp_img_type).observe(result_bytes)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
