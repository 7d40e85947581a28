"""CallbackUrl: POST the Query answer when a job ends, signed, retried with backoff, SSRF-safe.

The body is ``{"Response": {<QueryImageToImageJob fields>, "JobId", "RequestId"}}``. Headers::

    Content-Type: application/json
    X-Restyle-Job-Id: <JobId>
    X-Restyle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(SecretKey, "<t>." + body)>

``SecretKey`` is the key of the SecretId that submitted the job, so the caller verifies with what it
already holds (:func:`verify`). Any 2xx answer is a delivery; other answers, timeouts and network
errors are retried after ``backoff``, 2×, 4×... up to ``attempts`` tries.

Delivery is at least once, whichever node dies: a pending callback is sent by the node holding its
lease (taken from the queue, renewed every third of ``lease_s`` while it tries and waits). Every node
looks for pending callbacks whose lease ran out (their node died, kill -9) at that same pace and takes
them over, so with Redis the other node delivers; with SQLite the restarted node does.

The target is fetched under the InputUrl rules (``restyle.loaders.http``): http/https only, every
address of the host checked (no loopback/private/link-local... unless ``url_allowlist`` says so), the
socket pinned to the checked address, one deadline per try, redirects not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpcore

from restyle import errors
from restyle.jobs import BaseQueue, JobRecord
from restyle.loaders.http import Loader, _PinnedBackend
from restyle.pipeline.check import check_url

log = logging.getLogger("restyle.jobs.callbacks")
SIGNATURE_HEADER = "X-Restyle-Signature"


def signature(secret_key: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret_key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret_key: str, body: bytes, header: str, *, max_age_s: float = 300, now: float | None = None
) -> bool:
    """What a receiver does: check the HMAC and that the timestamp is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > max_age_s:
        return False
    return hmac.compare_digest(signature(secret_key, body, ts), header)


def check_target(url: str, loader: Loader) -> None:
    """Syntax and address rules, at Submit (the addresses are checked again at each delivery)."""
    check_url(url, "CallbackUrl")
    parts = urlsplit(url.strip())
    loader.pick_address(parts.hostname or "", parts.port or (443 if parts.scheme.lower() == "https" else 80))


def post(url: str, body: bytes, headers: dict[str, str], *, loader: Loader, timeout_s: float) -> int:
    """One POST to a checked address; the HTTP status."""
    url = url.strip()
    check_url(url, "CallbackUrl")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    ip = loader.pick_address(parts.hostname or "", port)
    backend = _PinnedBackend(ip, time.monotonic() + timeout_s)
    hdrs = [(k.encode(), v.encode()) for k, v in headers.items()]
    hdrs += [(b"Content-Length", str(len(body)).encode()), (b"User-Agent", loader.user_agent.encode())]
    try:
        with httpcore.ConnectionPool(
            ssl_context=loader.ssl_context, network_backend=backend, max_connections=1, retries=0
        ) as pool:
            resp = pool.request("POST", url, headers=hdrs, content=body)
            return int(resp.status)
    except errors.TencentError:
        raise
    except (httpcore.TimeoutException, httpcore.ProtocolError, httpcore.NetworkError, OSError) as exc:
        msg = f"callback to {parts.hostname} failed: {type(exc).__name__}"
        raise ConnectionError(msg) from None


class Callbacks:
    """Sends callbacks on background threads, one per finished job, with retries, under a lease."""

    def __init__(
        self,
        *,
        queue: BaseQueue,
        loader: Loader,
        secret_for: Callable[[str], str | None],
        answer: Callable[[JobRecord], dict[str, Any]],
        attempts: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        node: str | None = None,
        lease_s: float = 10.0,
    ) -> None:
        self.queue = queue
        self.loader = loader
        self.secret_for = secret_for
        self.answer = answer
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.node = node or uuid.uuid4().hex[:12]
        self.lease_s = lease_s
        self._stop = threading.Event()
        self._inflight: set[str] = set()
        self._lost: set[str] = set()  # in flight here, but another node took the lease (we were too slow)
        self._lock = threading.Lock()
        self._upkeep_thread: threading.Thread | None = None

    def start(self) -> None:
        """Take over what is pending (an earlier life of this node, or a dead node), then keep looking."""
        self.take_over()
        self._upkeep_thread = threading.Thread(
            target=self._upkeep, name="restyle-callback-upkeep", daemon=True
        )
        self._upkeep_thread.start()

    def send_later(self, rec: JobRecord) -> None:
        """Send the callback of a job that just ended here, unless another node already holds it."""
        if not rec.callback_url:
            return
        with self._lock:
            if rec.job_id in self._inflight:
                return
        if self.queue.claim_callbacks(node=self.node, lease_s=self.lease_s, job_id=rec.job_id):
            self._start(rec)

    def take_over(self) -> int:
        """Claim pending callbacks nobody holds and send them; how many were taken."""
        taken = 0
        for job_id in self.queue.claim_callbacks(node=self.node, lease_s=self.lease_s):
            rec = self.queue.get(job_id)
            if rec is None or not rec.finished or not rec.callback_url:
                self.queue.set_callback_state(job_id, "failed")  # its record is gone: nothing to send
                continue
            log.info("job %s: callback taken over (its sender stopped)", job_id)
            self._start(rec)
            taken += 1
        return taken

    def stop(self) -> None:
        self._stop.set()
        if self._upkeep_thread is not None:
            self._upkeep_thread.join(timeout=5)

    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def _start(self, rec: JobRecord) -> None:
        with self._lock:
            if rec.job_id in self._inflight:
                return
            self._inflight.add(rec.job_id)
        threading.Thread(target=self._deliver, args=(rec,), name="restyle-callback", daemon=True).start()

    def _upkeep(self) -> None:
        while not self._stop.wait(max(0.05, self.lease_s / 3)):
            try:
                with self._lock:
                    mine = list(self._inflight)
                for job_id in mine:
                    if not self.queue.renew_callback(job_id, node=self.node, lease_s=self.lease_s):
                        log.info("job %s: callback lease lost (another node sends it)", job_id)
                        with self._lock:
                            self._lost.add(job_id)
                self.take_over()
            except Exception:
                log.exception("callback upkeep failed")

    def _deliver(self, rec: JobRecord) -> None:
        try:
            state = self.deliver(rec)
            if state != "lost":
                self.queue.set_callback_state(rec.job_id, state)
        except Exception:
            log.exception("callback of job %s failed", rec.job_id)
        finally:
            with self._lock:
                self._inflight.discard(rec.job_id)
                self._lost.discard(rec.job_id)

    def _is_lost(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._lost

    def deliver(self, rec: JobRecord) -> str:
        """Try until delivered, refused for good, or out of attempts: "delivered" | "failed"; "pending"
        when shutting down, "lost" when another node took the callback over meanwhile."""
        assert rec.callback_url
        secret = self.secret_for(rec.secret_id)
        if secret is None:
            log.warning("job %s: the key %s is gone; its callback is not sent", rec.job_id, rec.secret_id)
            return "failed"
        fields = self.answer(rec)
        body = json.dumps(
            {"Response": {**fields, "JobId": rec.job_id, "RequestId": str(uuid.uuid4())}}, ensure_ascii=False
        ).encode("utf-8")
        wait = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            headers = {
                "Content-Type": "application/json",
                "X-Restyle-Job-Id": rec.job_id,
                SIGNATURE_HEADER: signature(secret, body, int(time.time())),
            }
            try:
                status = post(rec.callback_url, body, headers, loader=self.loader, timeout_s=self.timeout_s)
                if 200 <= status < 300:
                    log.info("job %s: callback delivered (try %d)", rec.job_id, attempt)
                    return "delivered"
                log.info("job %s: callback answered %d (try %d)", rec.job_id, status, attempt)
            except errors.UrlIllegal as exc:
                log.warning("job %s: callback refused: %s", rec.job_id, exc.detail)
                return "failed"
            except (errors.TencentError, ConnectionError) as exc:
                log.info("job %s: callback try %d failed: %s", rec.job_id, attempt, exc)
            if attempt < self.attempts and self._stop.wait(wait):
                return "pending"  # shutting down: another node (or the next start) sends it
            wait *= 2
            if self._is_lost(rec.job_id):
                return "lost"  # the node holding it now sends it
        return "failed"
