"""Async jobs: a durable queue of ImageToImage jobs in Tencent's Submit/Query shape.

A job is accepted by ``SubmitImageToImageJob`` once its record is committed to the queue (SQLite by
default, Redis when several nodes share the work); from then on it either finishes or reports failure:

* workers (``restyle.jobs.runner``) claim waiting jobs fairly across accounts (the account served
  longest ago goes first), under the same per-account job limit as the synchronous call;
* a claimed job carries a lease renewed by its node; when a node dies (kill -9) its leases run out and
  the jobs wait again (``requeue_expired``), up to ``max_attempts`` runs, then they fail;
* ``ClientToken`` makes a Submit idempotent per account for 24 h (one check-and-insert, atomic).

Each file exports ``Queue``: ``sqlite`` (one node, or several processes sharing one data dir) and
``redis`` (many nodes). The wire side lives in ``restyle.api.jobs``.

Job states are Tencent's ``JobStatusCode`` values: ``1`` waiting, ``2`` running, ``4`` failed, ``5`` done.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from restyle.plugins import Plugin

WAITING, RUNNING, FAILED, DONE = "1", "2", "4", "5"
STATUS_MSG = {WAITING: "排队中", RUNNING: "处理中", FAILED: "处理失败", DONE: "处理完成"}
#: JobErrorCode of a job its owner cancelled (a job field, never a wire error envelope)
CANCELLED = "FailedOperation.JobCancelled"
#: JobErrorCode of a job whose node died ``max_attempts`` times while running it
LOST = "FailedOperation.JobLost"
TOKEN_WINDOW_S = 24 * 3600


@dataclass
class JobRecord:
    """One job as the queue keeps it. ``params`` are the wire parameters of ImageToImage."""

    job_id: str
    account_id: str
    secret_id: str
    params: dict[str, Any]
    state: str = WAITING
    created_at: float = field(default_factory=time.time)
    client_token: str | None = None
    callback_url: str | None = None
    result_ttl_s: int = 3600
    started_at: float | None = None
    finished_at: float | None = None
    progress: int = 0
    error_code: str = ""
    error_msg: str = ""
    result_key: str | None = None
    result_expires_at: float | None = None
    effective: dict[str, Any] | None = None
    attempts: int = 0
    cancel_requested: bool = False
    node: str | None = None
    callback_state: str = ""  # "" none | "pending" | "delivered" | "failed"
    base_url: str = ""  # where result links point (the Host the submitter used, or public_url)

    @property
    def finished(self) -> bool:
        return self.state in (FAILED, DONE)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> JobRecord:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Finish:
    """How a run ended, as the runner reports it to the queue."""

    state: str
    error_code: str = ""
    error_msg: str = ""
    result_key: str | None = None
    result_expires_at: float | None = None
    effective: dict[str, Any] | None = None
    callback_state: str = ""


def fair_position(account: str, k: int, turns: list[tuple[str, int]]) -> int:
    """The start order of the k-th waiting job of ``account`` when accounts take turns (see position)."""
    before = k - 1
    ahead = True  # accounts listed before ``account`` have their turn in a round first
    for other, n in turns:
        if other == account:
            ahead = False
            continue
        before += min(n, k if ahead else k - 1)
    return before + 1


#: short names for ``jobs_queue`` (or a dotted path ``module:Queue``)
REGISTRY = {"sqlite": "restyle.jobs.sqlite:Queue", "redis": "restyle.jobs.redis:Queue"}


class BaseQueue(Plugin):
    """Base class of job queues. Every method is safe to call from several threads and processes."""

    name = "base"

    def submit(self, rec: JobRecord, *, max_waiting: int) -> tuple[JobRecord, bool]:
        """Store ``rec`` as waiting; return (record, created).

        With ``rec.client_token`` set and a job of the same account and token younger than 24 h, that
        job is returned with ``created=False`` and nothing is stored. Raises ``JobNumExceed`` when the
        account already has ``max_waiting`` jobs waiting.
        """
        raise NotImplementedError

    def get(self, job_id: str) -> JobRecord | None:
        raise NotImplementedError

    def position(self, rec: JobRecord) -> int:
        """1 + the waiting jobs, of every account, that will start before it; 0 unless waiting.

        Accounts take turns (:meth:`waiting_accounts` order, one job each per round), so a job k-th in
        its account's line starts in round k: before it go its own k-1 and, of every other account
        with n jobs waiting, min(n, k) if that account's turn comes first, else min(n, k-1). An account
        at its running limit lets the next one go first, so the figure is an upper bound then.
        """
        if rec.state != WAITING:
            return 0
        line = self.lines(rec)
        if line is None:
            return 0
        k, turns = line
        return fair_position(rec.account_id, k, turns)

    def lines(self, rec: JobRecord) -> tuple[int, list[tuple[str, int]]] | None:
        """(1-based place of ``rec`` in its account's line, [(account, jobs waiting)] in turn order),
        or None when it is not waiting."""
        raise NotImplementedError

    def waiting_accounts(self) -> list[str]:
        """Accounts with waiting jobs, the one served longest ago first."""
        raise NotImplementedError

    def claim(self, account_id: str, *, node: str, lease_s: float) -> JobRecord | None:
        """Take the oldest waiting job of ``account_id`` for ``node`` (running, lease until now+lease_s)."""
        raise NotImplementedError

    def heartbeat(self, job_id: str, *, node: str, progress: int, lease_s: float) -> tuple[bool, bool]:
        """Renew the lease of a job this node runs; return (still owned, cancel requested)."""
        raise NotImplementedError

    def finish(self, job_id: str, *, node: str, outcome: Finish) -> bool:
        """Record the end of a run by ``node``; False if the node no longer owned the job."""
        raise NotImplementedError

    def release(self, job_id: str, *, node: str) -> bool:
        """Give a running job back to the queue (graceful shutdown); it waits first in its account's line."""
        raise NotImplementedError

    def cancel(self, job_id: str) -> JobRecord | None:
        """Waiting: failed as cancelled at once. Running: cancel requested (the worker stops at its next
        step). Finished: unchanged. Returns the record after the change."""
        raise NotImplementedError

    def requeue_expired(self, *, max_attempts: int) -> list[str]:
        """Running jobs whose lease ran out wait again (or fail after ``max_attempts`` runs); their ids."""
        raise NotImplementedError

    def clear_result(self, job_id: str) -> str | None:
        """Forget a job's result (early delete); return the storage key to delete, if there was one."""
        raise NotImplementedError

    def expired_results(self, now: float) -> list[tuple[str, str]]:
        """(job id, storage key) of results past their lifetime."""
        raise NotImplementedError

    def set_callback_state(self, job_id: str, state: str) -> None:
        raise NotImplementedError

    def pending_callbacks(self) -> list[str]:
        """Finished jobs whose callback is not delivered yet (whoever is sending it)."""
        raise NotImplementedError

    def claim_callbacks(
        self, *, node: str, lease_s: float, job_id: str | None = None, limit: int = 100
    ) -> list[str]:
        """Take pending callbacks nobody holds (never claimed, or their lease ran out: their node died)
        for ``node`` until now+lease_s; only ``job_id`` when given. Each is taken by one node at a time."""
        raise NotImplementedError

    def renew_callback(self, job_id: str, *, node: str, lease_s: float) -> bool:
        """Extend the lease of a callback ``node`` is sending; False if it lost it (or it ended)."""
        raise NotImplementedError

    def purge(self, *, older_than_s: float) -> int:
        """Delete records finished more than ``older_than_s`` ago whose result is gone; how many."""
        raise NotImplementedError
