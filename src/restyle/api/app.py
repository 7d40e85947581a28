"""The ASGI app: create_app wires the routes and the lifespan of one node.

Where each route lives: the API 3.0 endpoint ``api/handler.py`` (its chain steps in ``api/chain.py``),
result links ``api/results.py``, the style catalogue ``api/catalogue.py``, job result files
``api/jobs.py``, health and metrics ``ops/routes.py``, the playground ``web/``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from restyle import web
from restyle.api import bodies
from restyle.api import jobs as job_actions
from restyle.api.catalogue import styles
from restyle.api.handler import api
from restyle.api.hosts import SingleHost
from restyle.api.results import results
from restyle.ops import logs
from restyle.ops.drain import Drainer
from restyle.ops.metrics import Metrics
from restyle.ops.routes import healthz, metrics, readyz
from restyle.ops.sweeper import sweep_forever
from restyle.service import Service


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
            tg.start_soon(sweep_forever, service)
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
