"""Operator routes: GET /healthz (alive, and the version), /readyz (backends reachable, not draining), /metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from restyle import __version__
from restyle.ops import health


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


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
