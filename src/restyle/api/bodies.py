"""Request bodies: read within the size and time limits, and within a global budget of bytes held
for callers whose signature has not been checked yet.

Before, every connection could hold up to ``max_body_bytes`` (10 MiB) before its signature was
checked: 150 unsigned connections held 1.8 GiB. Now:

- what the head alone decides is decided before the body is read (``app.check_before_body``):
  action, version, region, the Authorization header, the timestamp and the SecretId of a TC3 call,
  and its whole signature when the payload is ``UNSIGNED-PAYLOAD``. A call refused there has its
  body *drained* (read and dropped, never kept) so that a client that writes its whole body before
  reading gets the answer instead of a reset;
- a body that must be read before its caller is known (a TC3 body whose hash is signed, a legacy v1
  form) is charged to ``BodyBudget`` while it is held: the declared Content-Length up front, chunked
  bodies as they arrive. Over the budget the call gets ``RequestLimitExceeded`` (which the SDK's
  retryer retries) at once. The charge is given back once the signature is verified (the body then
  belongs to a known caller, bounded by its job slots) or when the call ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import anyio
from starlette.requests import Request

from restyle import errors

MiB = 1024 * 1024


class BodyBudget:
    """Bytes of unverified request bodies held at once by this process (thread-safe counter)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if self.held + n > self.max_bytes:
                self.refused += 1
                return False
            self.held += n
            self.peak = max(self.peak, self.held)
            return True

    def give_back(self, n: int) -> None:
        with self._lock:
            self.held -= n


@dataclass
class Hold:
    """What one request has charged to the budget."""

    budget: BodyBudget
    nbytes: int = 0

    def take(self, n: int) -> None:
        if not self.budget.take(n):
            mib = self.budget.max_bytes / MiB
            msg = (
                f"The server is receiving too many request bodies at once (over {mib:g} MiB from "
                "callers not yet authenticated); retry the call shortly."
            )
            raise errors.RequestLimitExceeded(msg)
        self.nbytes += n

    def release(self) -> None:
        if self.nbytes:
            self.budget.give_back(self.nbytes)
            self.nbytes = 0


def release(request: Request) -> None:
    """Give back what ``request`` charged to the budget (idempotent)."""
    hold: Hold | None = getattr(request.state, "body_hold", None)
    if hold is not None:
        hold.release()


async def read(
    request: Request,
    *,
    max_bytes: int,
    timeout_s: float,
    budget: BodyBudget | None,
    declared: int | None,
) -> tuple[bytes, bool, bool]:
    """(body, too_large, complete): the body, kept only up to ``max_bytes``.

    Past the limit the body is drained (read, not kept) up to 8 × the limit so the client can read
    the reply; ``complete`` is False when reading stopped before the end (close the connection).
    With a ``budget``, every byte kept is charged to it first (RequestLimitExceeded if it is full;
    the caller drains). Raises RequestTimeout when the body does not arrive within ``timeout_s``.
    """
    hold = None
    if budget is not None:
        hold = Hold(budget)
        request.state.body_hold = hold
        if declared is not None and declared <= max_bytes:
            hold.take(declared)
    too_large = declared is not None and declared > max_bytes
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    too_large = True
                if too_large:
                    # keep reading (and discarding) so a client that sends its whole body before
                    # reading the reply gets it: closing with unread data resets the connection and
                    # loses the reply. Past 8 × the limit (80 MiB by default) stop; the client then
                    # sees a reset instead. Nothing past the limit is kept in memory.
                    if size > 8 * max_bytes:
                        return b"", True, False
                    continue
                if hold is not None and declared is None:
                    hold.take(len(chunk))  # chunked: charged as it arrives
                chunks.append(chunk)
    except TimeoutError:
        msg = f"The request body was not received within {timeout_s:g} s."
        raise errors.RequestTimeout(msg) from None
    if too_large:
        chunks.clear()
        if hold is not None:
            hold.release()
    return b"".join(chunks), too_large, True


async def drain(request: Request, *, max_bytes: int, timeout_s: float) -> bool:
    """Read and drop the rest of a body not read to its end (at most ``max_bytes``, within
    ``timeout_s``): True if the whole body was read (the connection can be kept)."""
    size = 0
    try:
        with anyio.fail_after(timeout_s):
            while True:
                message = await request.receive()
                if message["type"] != "http.request":
                    return False  # the client went away
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return True
                if size > max_bytes:
                    return False
    except TimeoutError:
        return False
