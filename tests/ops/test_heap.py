"""ops.heap: large jobs give their freed heap back to the OS; small ones are not slowed by it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from restyle.ops import heap
from restyle.pipeline import run as run_module
from tests.conftest import encode, photo
from tests.pipeline import kit


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_trim_returns_what_worker_threads_freed() -> None:
    assert heap.trim() is True  # glibc here
    kept: list[np.ndarray] = []

    def churn() -> None:
        # a freed 1 MiB array lifts glibc's mmap threshold above 1 MiB, so the next ones come from this
        # thread's heap arena; the last one stays, so only malloc_trim can give back the pages under it
        np.ones(1 << 17).sum()
        arrays = [np.ones(1 << 17) for _ in range(200)]
        kept.append(arrays[-1])
        del arrays

    threads = [threading.Thread(target=churn) for _ in range(2)]
    heap.trim()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    before = rss_mib()
    heap.trim()
    assert rss_mib() < before - 50, (before, rss_mib())  # ~400 MiB were freed; most goes back


def test_only_large_sources_are_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(1) or True)
    assert heap.trim_after(heap.TRIM_PIXELS - 1) is False and not calls
    assert heap.trim_after(heap.TRIM_PIXELS) is True and calls == [1]


@pytest.mark.parametrize(("side", "trims"), [(256, 0), (1200, 1)])
def test_the_pipeline_trims_after_large_jobs(side: int, trims: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(1) or True)
    assert run_module.heap is heap
    kit.execute(encode(photo("astronaut", (side, side)), "PNG"))
    assert len(calls) == trims
