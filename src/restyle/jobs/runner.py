"""Workers that run queued jobs through the same pipeline as ImageToImage, and their upkeep.

Each worker thread: pick the account served longest ago that has a waiting job and a free job slot
(the same limiter, and so the same per-account limit, as the synchronous call), claim its oldest
job, run it, store the result under ``job-results``, record the end, then send the callback.

One upkeep thread, every ``lease_s / 3``: renews the leases of the jobs this node runs (and learns
about cancellations), puts jobs of dead nodes back in line, deletes expired results and old records.

On shutdown workers stop claiming; jobs still running after ``drain_s`` are interrupted and given back
to the queue, so another node (or this one, restarted) runs them.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, cast

from restyle import errors, plugins
from restyle.jobs import CANCELLED, DONE, FAILED, TOKEN_WINDOW_S, BaseQueue, Finish, JobRecord
from restyle.pipeline.job import Job
from restyle.pipeline.run import run
from restyle.storages import BaseStorage, LinkSigner

log = logging.getLogger("restyle.jobs")

RESULTS_ROUTE = "/job-results"

# progress: each pipeline step's share (percent when it starts); the engine fills "stylize"
STEP_START = {
    "moderate_text": 0,
    "load": 2,
    "decode": 10,
    "moderate_input": 15,
    "frame": 18,
    "stylize": 20,
    "restore": 85,
    "enhance": 88,
    "moderate_output": 90,
    "label": 93,
    "encode": 95,
    "provenance": 97,
    "deliver": 98,
}


@dataclass
class TrackedJob(Job):
    """A pipeline Job that reports its progress and can be stopped from outside."""

    engine_ticks_expected: int = 0
    step: str = ""
    engine_ticks: int = 0
    engine_steps: tuple[int, int] = (0, 0)  # (done, total) as a stepping engine reported them
    cancel_reason: str = ""  # "cancel" | "shutdown" | "lost"

    def enter_step(self, name: str) -> None:
        self.step = name
        super().enter_step(name)

    def engine_checkpoint(self) -> None:
        self.engine_ticks += 1
        super().engine_checkpoint()

    def engine_progress(self, done: int, total: int) -> None:
        self.engine_steps = (done, total)

    def stop(self, reason: str) -> None:
        self.cancel_reason = self.cancel_reason or reason
        self.cancelled.set()

    @property
    def progress(self) -> int:
        start = STEP_START.get(self.step, 0)
        if self.step != "stylize":
            return start
        done, total = self.engine_steps
        if total > 0:  # diffusion step callbacks: exact
            frac = min(1.0, done / total)
        elif self.engine_ticks_expected:
            frac = min(1.0, self.engine_ticks / self.engine_ticks_expected)
        else:  # engines without a known step count: approach the end of the share
            frac = 1 - math.exp(-self.engine_ticks / 6)
        return start + int((STEP_START["restore"] - start) * frac)


class ResultStore:
    """Where job results live: a storage of their own (not swept by the synchronous results' TTL)."""

    def __init__(self, storage: BaseStorage, signer: LinkSigner) -> None:
        self.storage = storage
        self.signer = signer

    def sign(self, key: str, expires: int) -> str:
        return self.signer.signature(f"jobs/{key}", expires)

    def url(self, key: str, *, expires_at: float, base_url: str) -> str:
        if not self.storage.serves_locally:
            return self.storage.url_for(key, ttl_s=max(1, int(expires_at - time.time())), base_url=base_url)
        expires = int(expires_at)
        return f"{base_url.rstrip('/')}{RESULTS_ROUTE}/{key}?Expires={expires}&Signature={self.sign(key, expires)}"

    def valid(self, key: str, expires: str, signature: str) -> bool:
        import hmac

        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(self.sign(key, int(expires)), signature)


def build_results(settings: Any, signer: LinkSigner) -> ResultStore:
    """The result storage kind of ``settings.storage``, under a place of its own."""
    name = settings.storage
    if name == "local":
        from restyle.storages.local import Storage as Local

        return ResultStore(Local(settings.data_dir / "job-results", signer), signer)
    if name == "memory":
        from restyle.storages.memory import Storage as Memory

        return ResultStore(Memory(signer), signer)
    if name == "s3":
        from restyle.storages.s3 import Storage as S3

        own = settings.model_copy(
            update={
                "s3_prefix": settings.s3_prefix.rstrip("/") + "-jobs/",
                "result_ttl_s": 3600,
                "s3_sweep": False,
            }
        )
        return ResultStore(S3.from_settings(own, signer), signer)
    cls: Any = plugins.resolve("storage", name, {})
    return ResultStore(cls.from_settings(settings, signer), signer)


@dataclass
class Running:
    rec: JobRecord
    job: TrackedJob


@dataclass
class Runner:
    """Worker threads and the upkeep thread of one node."""

    service: Any  # restyle.service.Service
    queue: BaseQueue
    results: ResultStore
    workers: int
    lease_s: float
    max_attempts: int
    poll_s: float
    keep_s: float
    drain_s: float = 5.0
    #: called with a finished record (callbacks); runs on the worker thread
    on_finish: Callable[[JobRecord], None] = lambda rec: None
    node: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _running: dict[str, Running] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _last_purge: float = 0.0

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        self._upkeep_once()  # jobs of a node that died wait again before the first claim
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"restyle-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._upkeep, name="restyle-job-upkeep", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        """Stop claiming; give back what is still running after ``drain_s``."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + self.drain_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.05)
        with self._lock:
            for item in self._running.values():
                item.job.stop("shutdown")
        for t in self._threads:
            t.join(timeout=5)

    def wake(self) -> None:
        """A job was submitted here: look now instead of at the next poll."""
        self._wake.set()

    def live_progress(self, job_id: str, stored: int) -> int:
        """The progress of a job running here (fresher than the stored one), else ``stored``."""
        with self._lock:
            item = self._running.get(job_id)
        return max(stored, item.job.progress) if item is not None else stored

    def cancel_local(self, job_id: str) -> None:
        with self._lock:
            item = self._running.get(job_id)
        if item is not None:
            item.job.stop("cancel")

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    # --- workers ----------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self._claim()
            except Exception:
                log.exception("claiming a job failed")
                claimed = None
            if claimed is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            rec, lease = claimed
            try:
                self._run(rec)
            except Exception:
                log.exception("job %s: the worker failed", rec.job_id)
            finally:
                lease.release()

    def _claim(self) -> tuple[JobRecord, Any] | None:
        settings = self.service.settings
        for account in self.queue.waiting_accounts():
            if self._stop.is_set():
                return None
            try:
                lease = self.service.limiter.acquire(account, settings.jobs_per_account)
            except errors.JobNumExceed:
                continue  # this account runs its limit already; the next account's turn
            try:
                rec = self.queue.claim(account, node=self.node, lease_s=self.lease_s)
            except BaseException:
                lease.release()
                raise
            if rec is None:
                lease.release()
                continue
            return rec, lease
        return None

    def _tracked(self, rec: JobRecord) -> TrackedJob:
        from restyle.api.provider import to_job  # wire params -> Job: the one conversion there is
        from restyle.api.shapes import ImageToImageRequest

        settings = self.service.settings
        job = to_job(
            cast(ImageToImageRequest, rec.params),
            request_id=rec.job_id,
            account_id=rec.account_id,
            budget_s=settings.jobs_timeout_s,
        )
        values = {f.name: getattr(job, f.name) for f in fields(Job) if f.init}
        values["rsp_img_type"] = "base64"  # the bytes are stored below; no link to the sync storage
        tracked = TrackedJob(**values)
        style = self.service.plugins.catalogue.get(job.style_id)
        if style is not None and style.engine == "diffusion":
            from restyle.engines.diffusion import effective_steps

            engine = self.service.plugins.engines[style.engine]
            strength = job.strength if job.strength is not None else style.strength
            asked = style.params.get("steps") or getattr(engine, "steps", 20)
            tracked.engine_ticks_expected = effective_steps(int(asked), strength)[1]
        return tracked

    def _run(self, rec: JobRecord) -> None:
        job = self._tracked(rec)
        with self._lock:
            self._running[rec.job_id] = Running(rec, job)
        try:
            outcome = self._execute(rec, job)
        finally:
            with self._lock:
                self._running.pop(rec.job_id, None)
        if outcome is None:  # given back (shutdown) or taken over by another node
            return
        if not self.queue.finish(rec.job_id, node=self.node, outcome=outcome):
            log.warning("job %s: finished here, but this node no longer owned it", rec.job_id)
            if outcome.result_key:
                self.results.storage.delete(outcome.result_key)
            return
        log.info(
            "job_id=%s account=%s state=%s code=%s attempts=%d",
            rec.job_id,
            rec.account_id,
            outcome.state,
            outcome.error_code or "OK",
            rec.attempts,
        )
        final = self.queue.get(rec.job_id)
        if final is not None:
            self.on_finish(final)

    def _execute(self, rec: JobRecord, job: TrackedJob) -> Finish | None:
        service = self.service
        try:
            result = run(job, service.plugins, service.limits, base_url=rec.base_url)
        except errors.TencentError as err:
            reason = job.cancel_reason
            if reason == "cancel":
                return Finish(FAILED, CANCELLED, "The job was cancelled while it ran.")
            if reason == "shutdown":
                self.queue.release(rec.job_id, node=self.node)
                log.info("job %s given back to the queue (shutdown)", rec.job_id)
                return None
            if reason == "lost":
                return None
            return Finish(FAILED, err.code, err.detail)
        except Exception:
            log.exception("job %s failed", rec.job_id)
            return Finish(FAILED, errors.InnerError.code, errors.InnerError().detail)
        ext = "png" if result.data[:8] == b"\x89PNG\r\n\x1a\n" else "jpg"
        key = f"{secrets.token_urlsafe(24)}.{ext}"
        self.results.storage.put(key, result.data, "image/png" if ext == "png" else "image/jpeg")
        return Finish(
            DONE,
            result_key=key,
            result_expires_at=time.time() + rec.result_ttl_s,
            effective=result.extra.get("effective"),
        )

    # --- upkeep -----------------------------------------------------------------------------------
    def _upkeep(self) -> None:
        while not self._stop.wait(max(0.05, self.lease_s / 3)):
            try:
                self._upkeep_once()
            except Exception:
                log.exception("job upkeep failed")

    def _upkeep_once(self) -> None:
        with self._lock:
            running = list(self._running.items())
        for job_id, item in running:
            owned, cancel = self.queue.heartbeat(
                job_id, node=self.node, progress=item.job.progress, lease_s=self.lease_s
            )
            if not owned:
                item.job.stop("lost")
            elif cancel:
                item.job.stop("cancel")
        for job_id in self.queue.requeue_expired(max_attempts=self.max_attempts):
            log.warning("job %s: its node stopped renewing it; back in line (or failed)", job_id)
            rec = self.queue.get(job_id)
            if rec is not None and rec.finished:
                self.on_finish(rec)
        for job_id, key in self.queue.expired_results(time.time()):
            self.results.storage.delete(key)
            self.queue.clear_result(job_id)
        now = time.monotonic()
        if now - self._last_purge > 60:
            self._last_purge = now
            self.queue.purge(older_than_s=max(self.keep_s, TOKEN_WINDOW_S))
