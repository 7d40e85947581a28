"""Liveness and readiness.

``/healthz`` (liveness) answers 200 while the process serves HTTP. ``/readyz`` (readiness) answers 200
only when this node should get traffic: the account store answers, every backend that can be probed
answers (a plugin is probed when its class overrides ``Plugin.ready``, which raises on failure: the
Redis limiter, the S3 storage, Ray engines), and the node is not draining. Load balancers take a node out on 503.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.to_thread

from restyle import plugins
from restyle.ops import logs

log = logging.getLogger("restyle.ops")
PROBE_TIMEOUT_S = 3.0


def probes(service: Any) -> dict[str, Any]:
    """name -> zero-argument callable that raises when that dependency is not usable."""
    out: dict[str, Any] = {"store": service.store.count_keys}
    parts = {"limiter": service.limiter, "storage": service.plugins.storage}
    engines = service.plugins.engines
    for name, engine in engines.items():
        parts[f"engine:{name}"] = engine
    for name, part in parts.items():
        if plugins.probed(part):
            out[name] = part.ready
    return out


async def readiness(service: Any, *, draining: bool) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {"draining": "yes" if draining else "no"}
    ok = not draining
    for name, probe in probes(service).items():
        try:
            with anyio.fail_after(PROBE_TIMEOUT_S):
                await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
            checks[name] = "ok"
        except Exception as exc:
            ok = False
            # the answer names the kind of failure only: exception text can carry hosts and credentials
            checks[name] = f"failed: {type(exc).__name__}"
            log.warning("readiness: %s failed: %s", name, logs.redact(str(exc)))
    return ok, checks
