"""In-process micro-batching: concurrent requests with the same batch key run as one pipeline call.

The first request of a key leads: it waits up to ``wait_s`` (or until ``max_size`` requests joined), then
for the pipeline (others keep joining while it is busy), closes the batch and runs it; each member gets its
own result or the batch's error. Members wait in short slices and call their ``checkpoint`` between them, so
a member out of time leaves at once (its result is dropped). With ``max_size = 1`` every request runs
alone, with no waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
POLL_S = 0.05


@dataclass
class _Batch(Generic[T, R]):
    items: list[T] = field(default_factory=list)
    closed: bool = False
    results: Sequence[R] | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    full: threading.Event = field(default_factory=threading.Event)


class MicroBatcher(Generic[T, R]):
    def __init__(self, max_size: int = 1, wait_s: float = 0.01) -> None:
        self.max_size = max(1, max_size)
        self.wait_s = max(0.0, wait_s)
        self._lock = threading.Lock()
        self._open: dict[Hashable, _Batch[T, R]] = {}
        #: sizes of the batches run so far (tests and logs)
        self.sizes: list[int] = []

    def submit(
        self,
        key: Hashable,
        item: T,
        run: Callable[[list[T]], Sequence[R]],
        acquire: Callable[[Callable[[], list[T]]], Any],
        checkpoint: Callable[[], None],
    ) -> R:
        """Run ``item`` (alone or with others of ``key``). ``acquire(members)`` is a context manager that
        holds the pipeline (``members()``: the batch so far, to decide whether anyone still waits for it);
        ``run`` paints a list of items and returns one result per item."""
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None or batch.closed or len(batch.items) >= self.max_size
            if leader:
                batch = _Batch()
                if self.max_size > 1:
                    self._open[key] = batch
            assert batch is not None
            index = len(batch.items)
            batch.items.append(item)
            if len(batch.items) >= self.max_size:
                batch.full.set()
        if not leader:
            while not batch.done.wait(POLL_S):
                checkpoint()
            if batch.error is not None:
                raise batch.error
            assert batch.results is not None
            return batch.results[index]
        try:
            if self.max_size > 1 and self.wait_s > 0:
                batch.full.wait(self.wait_s)
            with acquire(lambda: list(batch.items)):
                with self._lock:  # requests that came while the pipeline was busy are in
                    batch.closed = True
                    if self._open.get(key) is batch:
                        del self._open[key]
                    items = list(batch.items)
                self.sizes.append(len(items))
                batch.results = run(items)
        except BaseException as exc:
            batch.error = exc
            with self._lock:
                batch.closed = True
                if self._open.get(key) is batch:
                    del self._open[key]
            raise
        finally:
            batch.done.set()
        return batch.results[index]
