"""The API 3.0 route: REQUEST_CHAIN in order, the steps of each action, and the bookkeeping after.

REQUEST_CHAIN runs in order; any step may raise a TencentError, which ``envelope`` serialises.
The job slot taken by ``acquire_job_slot`` is released exactly once whatever happens next.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import Response

from restyle import errors
from restyle.api import bodies, envelope, provider, shapes
from restyle.api import jobs as job_actions
from restyle.api.chain import (
    ACTION,
    ACTIONS,
    Call,
    Step,
    blocking,
    check_rate,
    limit_body,
    read_tc_headers,
    refuse_when_draining,
    release_body_budget,
    resolve_account,
    run_steps,
    verify_signature,
)
from restyle.api.hosts import base_url
from restyle.ops import logs
from restyle.ops.drain import Drainer
from restyle.service import Service

log = logging.getLogger("restyle.api")

V1_COMMON = {
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "RequestClient",
    "Language",
    "Token",
}


async def acquire_job_slot(call: Call, service: Service) -> None:
    assert call.key is not None
    key = call.key
    call.lease = await blocking(service.limiter.acquire, key.account_id, service.settings.jobs_per_account)
    call.request.app.state.metrics.track_lease(call.lease)
    await blocking(
        functools.partial(
            service.store.admit_job,
            request_id=call.request_id,
            account_id=key.account_id,
            secret_id=key.secret_id,
        )
    )


def raw_params(call: Call) -> tuple[Any, bool]:
    """(parameters, given as strings?): JSON body (TC3 POST), or flattened strings (GET query, v1 form)."""
    if call.v1 is not None:
        flat = {k: v for k, v in call.v1.items() if k not in V1_COMMON}
        return shapes.unflatten(flat), True
    if call.request.method == "GET" or call.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        source = call.query if call.request.method == "GET" else call.body.decode("utf-8", "replace")
        return shapes.unflatten(dict(parse_qsl(source, keep_blank_values=True))), True
    try:
        return json.loads(call.body or b"{}", parse_constant=_reject_constant), False
    except (ValueError, UnicodeDecodeError) as exc:
        msg = f"The request body is not valid JSON: {exc}."
        raise errors.InvalidParameterType(msg) from None
    except RecursionError:
        msg = "The request body is not valid JSON: it is nested too deeply."
        raise errors.InvalidParameterType(msg) from None


async def parse_body(call: Call, service: Service) -> None:
    obj, from_strings = raw_params(call)
    call.params = shapes.parse_params(obj, from_strings=from_strings)
    styles = call.params.get("Styles") or ["201"]
    # recorded with the job: short and encodable, whatever the client sent (e.g. a lone \udfff escape)
    call.style = styles[0][:32].encode("utf-8", "backslashreplace").decode("utf-8")


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not a valid JSON number."
    raise ValueError(msg)


async def call_provider(call: Call, service: Service) -> None:
    assert call.params is not None and call.key is not None and call.lease is not None
    app_state = call.request.app.state
    if call.key.quota is not None:  # taken now, given back unless a result is delivered
        if not await blocking(service.store.consume_quota, call.key.account_id):
            msg = f"The account {call.key.account_id} has no quota left."
            raise errors.LowBalance(msg)
        call.charged = True
    t0 = time.perf_counter()
    call.reply, call.result = await provider.image_to_image(
        call.params,
        service=service,
        request_id=call.request_id,
        account_id=call.key.account_id,
        lease=call.lease,
        capacity=app_state.capacity,
        base_url=base_url(call.request, service, call.headers.get("host", "")),
    )
    call.pipeline_ms = (time.perf_counter() - t0) * 1000


async def call_job_action(call: Call, service: Service) -> None:
    """Submit / Query / Cancel ImageToImage jobs and delete results (restyle.api.jobs)."""
    assert call.key is not None
    raw, from_strings = raw_params(call)
    call.reply = await job_actions.handle(
        call.action,
        raw,
        from_strings=from_strings,
        key=call.key,
        service=service,
        system=call.request.app.state.jobs,
        request_id=call.request_id,
        base_url=base_url(call.request, service, call.headers.get("host", "")),
    )


#: the steps of each action after the common ones
ACTION_STEPS: dict[str, list[Step]] = {
    ACTION: [acquire_job_slot, parse_body, call_provider],
    **{action: [call_job_action] for action in job_actions.ACTIONS},
}


async def route_action(call: Call, service: Service) -> None:
    await run_steps(ACTION_STEPS[call.action], call, service)


assert set(ACTION_STEPS) == set(ACTIONS), "every action needs its steps"

REQUEST_CHAIN: list[Step] = [
    refuse_when_draining,
    limit_body,
    read_tc_headers,
    verify_signature,
    release_body_budget,
    resolve_account,
    check_rate,
    route_action,
]


def server_timing(call: Call) -> str:
    """``Server-Timing`` header: the whole call, the pipeline, each chain step (``chain.<name>``; the
    pipeline runs inside ``chain.call_provider``) and each pipeline step (ms)."""
    total = (time.perf_counter() - call.started) * 1000
    steps = call.result.timings_ms if call.result is not None else {}
    parts = [f"total;dur={total:.2f}", f"pipeline;dur={call.pipeline_ms:.2f}"]
    parts += [f"chain.{name};dur={ms:.2f}" for name, ms in call.steps_ms.items() if name != "route_action"]
    parts += [f"{name};dur={ms:.2f}" for name, ms in steps.items()]
    return ", ".join(parts)


# --- endpoints ------------------------------------------------------------------------------------
async def api(request: Request) -> Response:
    service: Service = request.app.state.service
    call = Call(request)
    drainer: Drainer = request.app.state.drainer
    request_id_token = logs.REQUEST_ID.set(call.request_id)
    code = "Cancelled"  # until an answer is decided (a cancelled call delivers nothing)
    try:
        with drainer.track() as scope:  # in flight until answered; cut off at the drain deadline
            await run_steps(REQUEST_CHAIN, call, service)
        if scope.cancelled_caught:
            msg = "The node shut down before the job finished; retry the call."
            raise errors.ServerError(msg)
        assert call.reply is not None
        code = "OK"
        response = envelope.success(call.reply, call.request_id)
        response.headers["Server-Timing"] = server_timing(call)
        if call.result is not None and "effective" in call.result.extra:  # README: Effective parameters
            response.headers["X-Restyle-Effective-Parameters"] = json.dumps(call.result.extra["effective"])
        return response
    except errors.TencentError as err:
        code = err.code
        response = envelope.error(err, call.request_id)
        if drainer.draining or call.close_connection:
            response.headers["Connection"] = "close"
        return response
    except Exception:
        log.exception("request %s failed", call.request_id)
        code = errors.InnerError.code
        return envelope.error(errors.InnerError(), call.request_id)
    finally:
        bodies.release(request)
        elapsed = (time.perf_counter() - call.started) * 1000
        with anyio.CancelScope(shield=True):  # a cut-off call still gives back its slot and quota
            await blocking(_finish, call, service, code, elapsed)
        _observe(request, call, code)
        log.info(
            "request_id=%s action=%s account=%s code=%s ms=%.1f",
            call.request_id,
            call.action or "-",
            call.key.account_id if call.key else "-",
            code,
            elapsed,
            extra={
                "action": call.action or None,
                "account": call.key.account_id if call.key else None,
                "code": code,
                "ms": round(elapsed, 1),
                "style": call.style,
            },
        )
        logs.REQUEST_ID.reset(request_id_token)


def _finish(call: Call, service: Service, code: str, elapsed_ms: float) -> None:
    """Bookkeeping after the answer is decided (on a worker thread): slot, quota, job record.

    Never raises: bookkeeping must not turn the reply into a non-JSON 500.
    """
    if call.lease is not None:
        try:
            call.lease.release_unless_handed_off()
        except Exception:
            log.exception("request %s: releasing the job slot failed", call.request_id)
    if call.key is None:
        return
    try:
        if call.charged and code != "OK":  # quota pays for delivered results only
            service.store.refund_quota(call.key.account_id)
        if call.lease is not None:
            service.store.record_job(
                request_id=call.request_id,
                account_id=call.key.account_id,
                secret_id=call.key.secret_id,
                style=call.style,
                code=code,
                duration_ms=elapsed_ms,
            )
    except Exception:
        log.exception("request %s: recording the job failed", call.request_id)


def _observe(request: Request, call: Call, code: str) -> None:
    result = call.result
    rsp = str(call.params.get("RspImgType", "base64")) if call.params else "base64"
    request.app.state.metrics.observe_call(
        action=call.action,
        code=code,
        style=result.style_id if result and code == "OK" else None,
        engine=result.engine if result else None,
        seconds=call.pipeline_ms / 1000 if result and code == "OK" else None,
        result_bytes=len(result.data) if result and code == "OK" else None,
        rsp_img_type=rsp if rsp in ("base64", "url") else "other",
    )
