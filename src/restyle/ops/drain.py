"""Graceful drain on SIGTERM.

uvicorn handles SIGTERM itself: it closes the listening socket at once, then waits for in-flight
requests (for ever unless ``timeout_graceful_shutdown`` is set) and only then runs the lifespan
shutdown. restyle puts a drain in front of that sequence:

1. SIGTERM arrives: the node starts draining. ``/readyz`` answers 503 so load balancers take it out,
   and new API calls are refused at once with ``FailedOperation.ServerError`` (the listening socket
   stays open, so clients get a Tencent answer rather than a reset while the balancer catches up).
2. Running jobs finish, for at most ``drain_timeout_s``. Jobs still running then are cut off: their
   callers get ``FailedOperation.ServerError`` and their worker threads are abandoned.
3. The signal is handed to uvicorn's own handler: it closes the socket, closes idle connections and
   runs the lifespan shutdown, where the node gives back any job lease it still holds
   (``Service.close_backends``). A second SIGTERM skips the wait.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import anyio
from anyio.abc import TaskGroup

log = logging.getLogger("restyle.ops")


class Drainer:
    """Counts in-flight API calls and runs the drain when SIGTERM arrives."""

    def __init__(self, timeout_s: float, metrics: Any = None) -> None:
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.draining = False
        self.inflight = 0
        self._scopes: set[anyio.CancelScope] = set()
        self._previous: Any = None
        self._installed = False
        self._forwarded = False
        self._tg: TaskGroup | None = None
        self._loop: Any = None

    # --- in-flight calls --------------------------------------------------------------------------
    @contextmanager
    def track(self) -> Iterator[anyio.CancelScope]:
        """Around one API call: counted as in flight, cut off if still running at the drain deadline."""
        scope = anyio.CancelScope()
        self.inflight += 1
        self._scopes.add(scope)
        if self.metrics is not None:
            self.metrics.inflight.inc()
        try:
            with scope:
                yield scope
        finally:
            self._scopes.discard(scope)
            self.inflight -= 1
            if self.metrics is not None:
                self.metrics.inflight.dec()

    # --- signal wiring ----------------------------------------------------------------------------
    def install(self, tg: TaskGroup) -> bool:
        """Take over SIGTERM (main thread only; uvicorn's handler is kept and called after the drain)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        import asyncio

        self._tg = tg
        self._loop = asyncio.get_running_loop()
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_sigterm)
        self._installed = True
        return True

    def uninstall(self) -> None:
        if self._installed and threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(
                    signal.SIGTERM, self._previous if self._previous is not None else signal.SIG_DFL
                )
            self._installed = False

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.draining:  # a second SIGTERM: stop waiting
            self._loop.call_soon_threadsafe(self._forward)
            return
        self._loop.call_soon_threadsafe(self.start)

    def start(self) -> None:
        """Begin draining (also callable without a signal, e.g. from an admin hook or a test)."""
        if self.draining or self._tg is None:
            return
        self.draining = True
        if self.metrics is not None:
            self.metrics.draining.set(1)
        log.info("SIGTERM: draining, %d call(s) in flight, deadline %.1f s", self.inflight, self.timeout_s)
        self._tg.start_soon(self._drain)

    async def _drain(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while self.inflight > 0 and time.monotonic() < deadline and not self._forwarded:
            await anyio.sleep(0.05)
        if self.inflight > 0 and not self._forwarded:
            log.warning("drain deadline passed: cutting off %d call(s)", self.inflight)
            for scope in list(self._scopes):
                scope.cancel()
            with anyio.move_on_after(2.0):
                while self.inflight > 0:
                    await anyio.sleep(0.02)
        log.info("drained; shutting down")
        self._forward()

    def _forward(self) -> None:
        """Hand SIGTERM to whoever had it before (uvicorn: close the socket and shut down)."""
        if self._forwarded:
            return
        self._forwarded = True
        prev = self._previous
        if callable(prev):
            prev(signal.SIGTERM, None)
        elif prev == signal.SIG_DFL or prev is None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
