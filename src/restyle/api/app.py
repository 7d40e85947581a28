"""The ASGI app: API 3.0 endpoint as a chain of named steps, plus health, results and catalogue routes.

REQUEST_CHAIN runs in order; any step may raise a TencentError, which ``envelope`` serialises.
The job slot taken by ``acquire_job_slot`` is released exactly once whatever happens next.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from restyle import errors, untrusted, web
from restyle.accounts.store import KeyRecord
from restyle.api import bodies, credentials, envelope, provider, shapes, signing
from restyle.api import jobs as job_actions
from restyle.api.hosts import SingleHost
from restyle.limiters import Lease
from restyle.ops import health, logs
from restyle.ops.drain import Drainer
from restyle.ops.metrics import Metrics
from restyle.pipeline.job import Result
from restyle.service import Service

log = logging.getLogger("restyle.api")
T = TypeVar("T")

ACTION = "ImageToImage"
VERSION = "2022-12-29"
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
RESULT_MAX_AGE_S = 3600
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


@dataclass
class Call:
    """One API call as it moves through the chain."""

    request: Request
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.perf_counter)
    body: bytes = b""
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    v1: dict[str, str] | None = None  # legacy v1 parameters (form body or query)
    action: str = ""
    key: KeyRecord | None = None
    lease: Lease | None = None
    params: shapes.ImageToImageRequest | None = None
    reply: dict[str, Any] | None = None
    result: Result | None = None
    pipeline_ms: float = 0.0
    close_connection: bool = False  # part of the body was left unread
    style: str | None = None
    charged: bool = False  # one job of a limited quota was taken for this call


Step = Callable[[Call, Service], Awaitable[None]]


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    """Store (SQLite) and limiter (Redis) calls run on a worker thread: the event loop never waits on
    them, so a slow or unreachable backend delays only the calls that need it (not /healthz)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args))


# --- chain steps ----------------------------------------------------------------------------------
async def refuse_when_draining(call: Call, service: Service) -> None:
    """After SIGTERM the node takes no new job (see restyle.ops.drain)."""
    if call.request.app.state.drainer.draining:
        msg = "This node is shutting down and takes no new jobs; retry the call (another node will take it)."
        raise errors.ServerError(msg)


async def limit_body(call: Call, service: Service) -> None:
    """Read the body (POST) or query (GET) within the size and time limits.

    What the head alone decides is checked first (``check_before_body``); a body read before its
    caller is authenticated is charged to the process's budget of such bytes (restyle.api.bodies)."""
    s = service.settings
    req = call.request
    call.headers = {k.lower(): v for k, v in req.headers.items()}
    call.query = req.scope.get("query_string", b"").decode("latin-1")
    if len(call.query) > s.max_query_bytes:
        msg = f"The query string is {len(call.query)} bytes; at most {s.max_query_bytes} are allowed."
        raise errors.RequestEntityTooLarge(msg)
    if req.method != "POST":
        return
    text = call.headers.get("content-length", "")
    declared = int(text) if untrusted.is_digits(text, 18) else None
    try:
        if declared is None or declared <= s.max_body_bytes:
            await check_before_body(call, service)
        verified = getattr(req.state, "body_verified", False)
        call.body, too_large, complete = await bodies.read(
            req,
            max_bytes=s.max_body_bytes,
            timeout_s=s.body_timeout_s,
            budget=None if verified else req.app.state.body_budget,
            declared=declared,
        )
    except errors.RequestTimeout:
        call.close_connection = True
        raise
    except (
        ClientDisconnect
    ):  # the server cut the connection: malformed chunked framing, or a client that left
        call.close_connection = True
        msg = "The request body is malformed or was cut off before its end."
        raise errors.InvalidParameterType(msg) from None
    except errors.TencentError:  # refused before the body was read: drop it, keep nothing
        if not await bodies.drain(req, max_bytes=s.max_body_bytes, timeout_s=s.body_timeout_s):
            call.close_connection = True
        raise
    call.close_connection = not complete  # the rest is unread: this connection is done
    if too_large:
        msg = f"The request body is larger than {s.max_body_bytes} bytes."
        raise errors.RequestEntityTooLarge(msg)


async def check_before_body(call: Call, service: Service) -> None:
    """What a POST's head alone decides, before its body is read (issue 11 #4).

    A legacy v1 form carries its credentials in the body: nothing to check yet. Otherwise the
    X-TC-* headers, the Authorization header, the timestamp and the SecretId are checked as the
    chain checks them later; with ``X-TC-Content-SHA256: UNSIGNED-PAYLOAD`` the signature covers no
    body and is verified here too, so that body is read outside the unauthenticated budget."""
    h = call.headers
    if "authorization" not in h:
        if h.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return
        await read_tc_headers(call, service)
        signing.parse_authorization(None)  # InvalidAuthorization: missing
    await read_tc_headers(call, service)
    auth = signing.parse_authorization(h.get("authorization"))
    credentials.check_tc3(h)
    signing.check_timestamp(h.get("x-tc-timestamp"), time.time(), service.settings.signature_skew_s)
    await _lookup(service, auth.secret_id)
    if h.get("x-tc-content-sha256", "").strip() == signing.UNSIGNED:
        await verify_signature(call, service)
        call.request.state.body_verified = True


async def release_body_budget(call: Call, service: Service) -> None:
    """The signature is verified: the body belongs to a known caller (bounded by its job slots)."""
    bodies.release(call.request)


async def read_tc_headers(call: Call, service: Service) -> None:
    """Action, Version and Region from X-TC-* headers (TC3) or from the v1 parameters."""
    h = call.headers
    if "authorization" not in h:
        ctype = h.get("content-type", "")
        source = call.query if call.request.method == "GET" else ""
        if call.request.method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
            source = call.body.decode("utf-8", "replace")
        params = dict(parse_qsl(source, keep_blank_values=True))
        if "Signature" in params or "SecretId" in params:
            call.v1 = params
    v1 = call.v1

    def get(name: str) -> str | None:
        return v1.get(name) if v1 is not None else h.get(f"x-tc-{name.lower()}")

    action, version, region = get("Action"), get("Version"), get("Region")
    if not action:
        raise errors.MissingParameter()
    if action not in ACTION_STEPS:
        msg = (
            f"The request `Action` {untrusted.shown(action)} is invalid or not found; "
            f"restyle serves {', '.join(ACTION_STEPS)}."
        )
        raise errors.InvalidAction(msg)
    if not version:
        msg = "The request is missing a required parameter `Version`."
        raise errors.MissingParameter(msg)
    if version != VERSION:
        msg = f"The request `Version` {untrusted.shown(version)} is not supported; use {VERSION}."
        raise errors.NoSuchVersion(msg)
    if region not in service.settings.regions:
        msg = f"The request `Region` {untrusted.shown(region)} is not supported; use one of {', '.join(service.settings.regions)}."
        raise errors.UnsupportedRegion(msg)
    call.action = action


async def verify_signature(call: Call, service: Service) -> None:
    """TC3-HMAC-SHA256 (Authorization header) or legacy v1 (Signature parameter)."""
    s = service.settings
    now = time.time()
    if call.v1 is not None:
        p = call.v1
        if not p.get("SecretId") or not p.get("Signature"):
            msg = "Legacy signing needs both SecretId and Signature."
            raise errors.InvalidAuthorization(msg)
        credentials.check_v1(p)
        signing.check_timestamp(p.get("Timestamp"), now, s.signature_skew_s)
        key = await _lookup(service, p["SecretId"])
        if not s.auth_disabled:
            signing.verify_v1(
                secret_key=key.secret_key,
                method=call.request.method,
                host=call.headers.get("host", ""),
                params=p,
            )
        call.key = key
        return
    auth = signing.parse_authorization(call.headers.get("authorization"))
    credentials.check_tc3(call.headers)
    ts = signing.check_timestamp(call.headers.get("x-tc-timestamp"), now, s.signature_skew_s)
    key = await _lookup(service, auth.secret_id)
    if not s.auth_disabled:
        signing.verify_tc3(
            auth=auth,
            secret_key=key.secret_key,
            method=call.request.method,
            query=call.query,
            headers=call.headers,
            body=call.body,
            timestamp=ts,
        )
    call.key = key


async def _lookup(service: Service, secret_id: str) -> KeyRecord:
    credentials.check_secret_id(secret_id)  # an id no key can have: no lookup, nothing cached
    key = await blocking(service.store.lookup, secret_id)
    if key is None or key.status != "active":
        raise errors.SecretIdNotFound()
    return key


async def resolve_account(call: Call, service: Service) -> None:
    """Key scope, account status and quota."""
    key = call.key
    assert key is not None
    if not key.may_call(call.action):
        msg = f"The key {key.secret_id} may not call {call.action}."
        raise errors.UnauthorizedOperation(msg)
    if key.account_status != "active":
        msg = f"The account {key.account_id} is stopped."
        raise errors.StopUsing(msg)
    if key.quota is not None and key.quota <= 0 and call.action not in job_actions.QUOTA_FREE:
        msg = f"The account {key.account_id} has no quota left."
        raise errors.LowBalance(msg)


async def check_rate(call: Call, service: Service) -> None:
    assert call.key is not None
    await blocking(service.limiter.check_rate, call.key.account_id, service.settings.requests_per_second)


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
    for step in ACTION_STEPS[call.action]:
        await step(call, service)


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
    """``Server-Timing`` header: the whole call, the pipeline, and each pipeline step (ms)."""
    total = (time.perf_counter() - call.started) * 1000
    steps = call.result.timings_ms if call.result is not None else {}
    parts = [f"total;dur={total:.2f}", f"pipeline;dur={call.pipeline_ms:.2f}"]
    parts += [f"{name};dur={ms:.2f}" for name, ms in steps.items()]
    return ", ".join(parts)


def base_url(request: Request, service: Service, host: str | None = None) -> str:
    """Where result links point: the configured public URL, else the Host the client used (for API
    calls: the Host that was signed, passed as ``host``)."""
    if service.settings.public_url:
        return service.settings.public_url.rstrip("/")
    if host is None:
        host = request.headers.get("host", "")
    scheme = request.url.scheme
    if "://" in host:  # tccli sends `Host: http://127.0.0.1:PORT`
        scheme, host = host.split("://", 1)
        host = host.rstrip("/")
    if not _HOST_RE.match(host):
        server = request.scope.get("server") or ("127.0.0.1", service.settings.port)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}"


# --- endpoints ------------------------------------------------------------------------------------
async def api(request: Request) -> Response:
    service: Service = request.app.state.service
    call = Call(request)
    drainer: Drainer = request.app.state.drainer
    request_id_token = logs.REQUEST_ID.set(call.request_id)
    code = "Cancelled"  # until an answer is decided (a cancelled call delivers nothing)
    try:
        with drainer.track() as scope:  # in flight until answered; cut off at the drain deadline
            for step in REQUEST_CHAIN:
                await step(call, service)
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


async def results(request: Request) -> Response:
    service: Service = request.app.state.service
    key = request.path_params["key"]
    q = request.query_params
    now = time.time()
    expires = service.signer.expires_at(key, q.get("Expires", ""), q.get("Signature", ""), now)
    if expires is None:
        return PlainTextResponse("link expired or invalid\n", status_code=403)
    data = await anyio.to_thread.run_sync(service.plugins.storage.get, key)
    if data is None:
        return PlainTextResponse("not found\n", status_code=404)
    media = "image/png" if key.endswith(".png") else "image/jpeg"
    max_age = max(0, min(RESULT_MAX_AGE_S, int(expires - now)))  # a cache never outlives the link
    return Response(data, media_type=media, headers={"Cache-Control": f"private, max-age={max_age}"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ok, checks = await health.readiness(
        request.app.state.service, draining=request.app.state.drainer.draining
    )
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )


async def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, headers={"Content-Type": content_type})


async def styles(request: Request) -> Response:
    service: Service = request.app.state.service
    base = base_url(request, service)
    entries = [
        {**s.as_json(), "PreviewUrl": base + web.preview_path(s.id)}
        for s in service.plugins.catalogue.values()
    ]
    return JSONResponse({"Styles": entries})


def create_app(service: Service) -> Starlette:
    previews = web.Previews(service)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        app.state.service = service
        app.state.capacity = anyio.CapacityLimiter(service.settings.worker_threads)
        app.state.body_budget = bodies.BodyBudget(service.settings.max_unverified_body_bytes)
        logs.configure(service.settings.log_format)
        app.state.metrics = Metrics(gate=service.plugins.compute)
        app.state.drainer = drainer = Drainer(service.settings.drain_timeout_s, app.state.metrics)
        app.state.jobs = job_actions.build_system(service)
        await anyio.to_thread.run_sync(app.state.jobs.start)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_sweeper, service)
            if service.settings.playground_previews == "startup":
                tg.start_soon(previews.warm)
            drainer.install(tg)  # SIGTERM: drain first, then uvicorn's own shutdown
            yield
            tg.cancel_scope.cancel()
        drainer.uninstall()
        await anyio.to_thread.run_sync(app.state.jobs.stop)  # running jobs finish or go back in line
        await anyio.to_thread.run_sync(service.close_backends)  # give back leases held by this node

    routes = [
        Route("/", web.front_door(api), methods=["GET", "POST"]),  # a bare GET / → /playground
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/results/{key}", results, methods=["GET"]),
        Route("/v1/styles", styles, methods=["GET"]),
        *job_actions.routes(),
        *web.routes(service, previews),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SingleHost)])


async def _sweeper(service: Service) -> None:
    ttl = service.settings.result_ttl_s
    while True:
        try:
            removed = await anyio.to_thread.run_sync(lambda: service.plugins.storage.sweep(older_than_s=ttl))
            if removed:
                log.info("swept %d expired results", removed)
            keep = service.settings.job_records_ttl_s
            pruned = await anyio.to_thread.run_sync(
                functools.partial(service.store.prune_jobs, older_than_s=keep)
            )
            if pruned:
                log.info("pruned %d job records older than %d s", pruned, keep)
        except Exception:
            log.exception("result sweep failed")
        await anyio.sleep(min(60.0, max(1.0, ttl / 4)))
