"""The call context and the common steps of the API 3.0 chain (before the action's own steps).

Each step takes the :class:`Call` and the service and may raise a TencentError, which
``envelope`` serialises. The order is ``handler.REQUEST_CHAIN``; the action steps are in ``handler``.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
from starlette.requests import ClientDisconnect, Request

from restyle import errors, untrusted
from restyle.accounts.store import KeyRecord
from restyle.api import bodies, credentials, shapes, signing
from restyle.api import jobs as job_actions
from restyle.limiters import Lease
from restyle.pipeline.job import Result
from restyle.service import Service

T = TypeVar("T")

ACTION = "ImageToImage"
VERSION = "2022-12-29"
#: every action the endpoint serves (``handler.ACTION_STEPS`` has the steps of each)
ACTIONS = (ACTION, *job_actions.ACTIONS)


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
    #: ms of each chain step (``Server-Timing`` ``chain.<step>``), ImageToImage's action steps included
    steps_ms: dict[str, float] = field(default_factory=dict)
    close_connection: bool = False  # part of the body was left unread
    style: str | None = None
    charged: bool = False  # one job of a limited quota was taken for this call


Step = Callable[[Call, Service], Awaitable[None]]


async def run_steps(steps: list[Step], call: Call, service: Service) -> None:
    """Run ``steps`` in order, recording each one's time in ``call.steps_ms``."""
    for step in steps:
        t0 = time.perf_counter()
        try:
            await step(call, service)
        finally:
            call.steps_ms[step.__name__] = (time.perf_counter() - t0) * 1000


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
    if action not in ACTIONS:
        msg = (
            f"The request `Action` {untrusted.shown(action)} is invalid or not found; "
            f"restyle serves {', '.join(ACTIONS)}."
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
