"""Async job actions on the API 3.0 endpoint, in the shape of Tencent's Submit/Query pairs.

    SubmitImageToImageJob     every ImageToImage field, plus ClientToken, CallbackUrl, ResultTtl -> JobId
    QueryImageToImageJob      JobId -> JobStatusCode (1 waiting, 2 running, 4 failed, 5 done),
                              JobStatusMsg, JobErrorCode, JobErrorMsg, ResultImage [url], ResultDetails,
                              plus QueuePosition, Progress (0-100), EffectiveParameters, ResultExpireTime
    CancelImageToImageJob     JobId -> the Query answer: a waiting job fails as cancelled at once, a
                              running one at its next step; a done job's result is deleted
    DeleteImageToImageResult  JobId -> the Query answer, with the result deleted

A job belongs to its account: another account's JobId answers ``FailedOperation.JobNotExist``.
ResultImage links are valid until the result's lifetime (``ResultTtl``, 60 s - 7 days, default 1 h) ends.
The machinery is ``restyle.jobs``; this module only parses, checks and shapes.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from restyle import errors, jobs, plugins
from restyle.accounts.store import KeyRecord
from restyle.api import provider, shapes
from restyle.jobs import DONE, STATUS_MSG, WAITING, BaseQueue, JobRecord, callbacks
from restyle.jobs.runner import RESULTS_ROUTE, ResultStore, Runner, build_results
from restyle.pipeline.check import Limits, check_job

SUBMIT = "SubmitImageToImageJob"
QUERY = "QueryImageToImageJob"
CANCEL = "CancelImageToImageJob"
DELETE = "DeleteImageToImageResult"
ACTIONS = (SUBMIT, QUERY, CANCEL, DELETE)
#: signed, admitted and rate-limited like every action, but they take no quota: an account whose quota
#: ran out still queries, cancels and deletes the jobs it paid for
QUOTA_FREE = (QUERY, CANCEL, DELETE)

TTL_RANGE = (60, 7 * 24 * 3600)
_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,64}$")


@dataclass
class JobSystem:
    """The queue, its workers, the result store and the callback sender of one node."""

    queue: BaseQueue
    results: ResultStore
    runner: Runner
    callbacks: callbacks.Callbacks

    def start(self) -> None:
        self.runner.start()
        self.callbacks.start()

    def stop(self) -> None:
        self.callbacks.stop()
        self.runner.stop()
        self.queue.close()


def build_system(service: Any) -> JobSystem:
    s = service.settings
    queue_cls: type[BaseQueue] = plugins.resolve("jobs queue", s.jobs_queue, jobs.REGISTRY)
    queue: BaseQueue = queue_cls.from_settings(s)
    results = build_results(s, service.signer)
    runner = Runner(
        service=service,
        queue=queue,
        results=results,
        workers=s.jobs_workers or max(s.jobs_per_account, s.resolved_compute_threads()),
        lease_s=s.jobs_lease_s,
        max_attempts=s.jobs_max_attempts,
        poll_s=s.jobs_poll_s,
        keep_s=s.jobs_keep_s,
        drain_s=min(5.0, s.drain_timeout_s),
    )

    def secret_for(secret_id: str) -> str | None:
        key = service.store.lookup(secret_id, use_cache=False)
        return key.secret_key if key is not None else None

    sender = callbacks.Callbacks(
        queue=queue,
        loader=service.plugins.url_loader,
        secret_for=secret_for,
        answer=lambda rec: answer(rec, queue=queue, results=results, runner=runner, base_url=rec.base_url),
        attempts=s.callback_attempts,
        backoff_s=s.callback_backoff_s,
        timeout_s=s.callback_timeout_s,
        node=runner.node,
        lease_s=s.jobs_lease_s,
    )
    runner.on_finish = sender.send_later
    return JobSystem(queue, results, runner, sender)


# --- the answers --------------------------------------------------------------------------------
def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(
    rec: JobRecord, *, queue: BaseQueue, results: ResultStore, runner: Runner, base_url: str
) -> dict[str, Any]:
    """The QueryImageToImageJob fields of ``rec`` (links point at ``base_url``)."""
    done_with_file = rec.state == DONE and rec.result_key is not None and rec.result_expires_at is not None
    images = []
    if done_with_file:
        assert rec.result_key is not None and rec.result_expires_at is not None
        images = [results.url(rec.result_key, expires_at=rec.result_expires_at, base_url=base_url)]
    details = ["Success"] if done_with_file else (["Deleted"] if rec.state == DONE else [])
    return {
        "JobStatusCode": rec.state,
        "JobStatusMsg": STATUS_MSG.get(rec.state, ""),
        "JobErrorCode": rec.error_code,
        "JobErrorMsg": rec.error_msg,
        "ResultImage": images,
        "ResultDetails": details,
        "QueuePosition": queue.position(rec) if rec.state == WAITING else 0,
        "Progress": 100 if rec.state == DONE else runner.live_progress(rec.job_id, rec.progress),
        "EffectiveParameters": rec.effective,
        "ResultExpireTime": _iso(rec.result_expires_at) if done_with_file and rec.result_expires_at else "",
    }


# --- the actions --------------------------------------------------------------------------------
def _parse(shape: Any, value: Any, from_strings: bool, action: str) -> dict[str, Any]:
    """The request's TypedDict (``shapes``), validated; errors name ``action``."""
    params: dict[str, Any] = shapes.parse(shape, value, from_strings=from_strings, action=action)
    return params


def _owned(system: JobSystem, params: dict[str, Any], key: KeyRecord) -> JobRecord:
    job_id = params.get("JobId")
    if not job_id:
        msg = "The request is missing the parameter `JobId`."
        raise errors.MissingParameter(msg)
    rec = system.queue.get(job_id)
    if rec is None or rec.account_id != key.account_id:  # another account's job does not exist for you
        msg = f"The job {job_id[:80]!r} does not exist."
        raise errors.JobNotExist(msg)
    return rec


async def handle(
    action: str,
    raw: Any,
    *,
    from_strings: bool,
    key: KeyRecord,
    service: Any,
    system: JobSystem,
    request_id: str,
    base_url: str,
) -> dict[str, Any]:
    """One job action; returns the Response fields (RequestId is added by the envelope)."""
    if action == SUBMIT:
        params = _parse(shapes.SubmitImageToImageJobRequest, raw, from_strings, action)
        return await submit(
            params, key=key, service=service, system=system, request_id=request_id, base_url=base_url
        )
    params = _parse(shapes.JobIdRequest, raw, from_strings, action)

    def work() -> dict[str, Any]:
        rec = _owned(system, params, key)
        if action == CANCEL:
            rec = cancel(system, rec)
        elif action == DELETE:
            rec = delete_result(system, rec)
        return answer(
            rec, queue=system.queue, results=system.results, runner=system.runner, base_url=base_url
        )

    return await anyio.to_thread.run_sync(work)


async def submit(
    params: dict[str, Any], *, key: KeyRecord, service: Any, system: JobSystem, request_id: str, base_url: str
) -> dict[str, Any]:
    s = service.settings
    token = params.pop("ClientToken", None)
    callback_url = params.pop("CallbackUrl", None) or None
    ttl = params.pop("ResultTtl", s.jobs_result_ttl_s)
    if token is not None and not _TOKEN_RE.match(token):
        msg = "ClientToken must be 1 to 64 printable ASCII characters without spaces."
        raise errors.ParameterValueError(msg)
    if not TTL_RANGE[0] <= ttl <= TTL_RANGE[1]:
        msg = f"ResultTtl is {ttl}; it must be {TTL_RANGE[0]} to {TTL_RANGE[1]} seconds (7 days)."
        raise errors.ParameterValueError(msg)
    # every ImageToImage rule, before the job is accepted
    job = provider.to_job(
        cast(shapes.ImageToImageRequest, params),
        request_id=request_id,
        account_id=key.account_id,
        budget_s=s.job_timeout_s,
    )
    check_job(job, service.plugins.catalogue, Limits(max_image_b64_bytes=service.limits.source.max_b64_bytes))
    if callback_url is not None:
        await anyio.to_thread.run_sync(callbacks.check_target, callback_url, service.plugins.url_loader)
    rec = JobRecord(
        job_id=str(uuid.uuid4()),
        account_id=key.account_id,
        secret_id=key.secret_id,
        params=dict(params),
        client_token=token,
        callback_url=callback_url,
        result_ttl_s=ttl,
        base_url=base_url,
        created_at=time.time(),
    )
    rec, created = await anyio.to_thread.run_sync(
        lambda: system.queue.submit(rec, max_waiting=s.jobs_max_waiting)
    )
    if created:
        if key.quota is not None and not service.store.consume_quota(key.account_id):
            await anyio.to_thread.run_sync(system.queue.cancel, rec.job_id)
            msg = f"The account {key.account_id} has no quota left."
            raise errors.LowBalance(msg)
        system.runner.wake()
    return {"JobId": rec.job_id}


def cancel(system: JobSystem, rec: JobRecord) -> JobRecord:
    if rec.finished:
        return delete_result(system, rec) if rec.state == DONE else rec
    was_waiting = rec.state == WAITING
    after = system.queue.cancel(rec.job_id)
    assert after is not None
    system.runner.cancel_local(rec.job_id)  # running here: stop at the next step, not at the next heartbeat
    if was_waiting and after.finished:
        system.callbacks.send_later(after)
    return after


def delete_result(system: JobSystem, rec: JobRecord) -> JobRecord:
    if not rec.finished:
        msg = f"The job {rec.job_id} has not finished; cancel it with {CANCEL}."
        raise errors.ParameterValueError(msg)
    key = system.queue.clear_result(rec.job_id)
    if key:
        system.results.storage.delete(key)
    after = system.queue.get(rec.job_id)
    assert after is not None
    return after


# --- result files -------------------------------------------------------------------------------
async def job_result(request: Request) -> Response:
    system: JobSystem = request.app.state.jobs
    key = request.path_params["key"]
    q = request.query_params
    if not system.results.valid(key, q.get("Expires", ""), q.get("Signature", "")):
        return PlainTextResponse("link expired or invalid\n", status_code=403)
    data = await anyio.to_thread.run_sync(system.results.storage.get, key)
    if data is None:
        return PlainTextResponse("not found\n", status_code=404)
    media = "image/png" if key.endswith(".png") else "image/jpeg"
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


def routes() -> list[Route]:
    return [Route(RESULTS_ROUTE + "/{key}", job_result, methods=["GET"])]
