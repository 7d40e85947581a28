"""Style engines as Ray Serve replicas (``RESTYLE_ENGINE_BACKEND=ray``). Hosting only, no business logic.

Each engine of the catalogue becomes one Serve application (``restyle-engine-<name>``) whose
replicas hold the engine object. API nodes keep the whole pipeline and call the replicas through a
:class:`~ray.serve.handle.DeploymentHandle` in place of the local engine, so the code path is the
same: :class:`RemoteEngine` *is* a :class:`~restyle.engines.BaseEngine`.

* Bounded queues: a replica runs ``ray_max_ongoing_requests`` jobs at once; each API node queues at
  most ``ray_max_queued_requests`` more per engine, beyond which the call answers
  ``RequestLimitExceeded`` at once (the SDK's ``StandardRetryer``, when a client enables it,
  retries that code with backoff).
* Node settings: replicas build their engine with ``from_settings`` from the API node's settings
  (paths made absolute, threads bounded by ``ray_num_cpus``) and check the styles they will paint.
* Batching: an engine that paints several requests in one call (``batching(settings)`` and
  ``stylize_many`` on its class: the diffusion engine, ``diffusion_batch_size`` > 1) is deployed with a
  Ray Serve ``@serve.batch`` method: requests arriving within ``diffusion_batch_wait_ms`` of each other
  are handed over together, and the engine paints those that share a preset in one pipeline call, each
  with its own seed. ``max_ongoing_requests`` is raised to the batch size so a replica can fill a batch.
* GPU placement: when the cluster has GPUs, replicas of engines that use one (``uses_gpu = True`` on
  the engine class, see ``BaseEngine``) reserve ``ray_num_gpus`` each.
* Cancellation: the API side waits in short slices and checks the job's budget between them; a job
  that is out of time or abandoned cancels its Serve request. Replicas also stop at their own
  deadline (``job_timeout_s``) through the engine's ``checkpoint``.
* ``ray_address=local`` starts a private Ray cluster for this node (loopback only, no dashboard);
  ``auto`` or ``ray://host:port`` joins a shared one, where the first node deploys the engines.

Needs ``pip install restyle[ray]``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from typing import Any, cast

import numpy as np

from restyle import engines, errors, plugins
from restyle.engines import BaseEngine, StyleRequest
from restyle.imaging.arrays import U8
from restyle.serving.ray_loopback import bind_replica_grpc_to_loopback, check_loopback_patch
from restyle.styles import Style

if importlib.util.find_spec("ray") is None:  # pragma: no cover - depends on the environment
    msg = "engine_backend 'ray' needs `pip install restyle[ray]`"
    raise ImportError(msg)
# ray is imported late: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (node address = loopback) must be in the
# environment before ray reads its constants, and only a private cluster wants it.

log = logging.getLogger("restyle.serving.ray")
APP_PREFIX = "restyle-engine-"
POLL_S = 0.1


def node_settings(settings: Any) -> dict[str, Any]:
    """The API node's settings as plain data for its replicas: every path made absolute (a replica runs in
    another process, maybe on another machine with the same layout), and engines' CPU threads bounded by
    the CPUs a replica reserves when they are left at 0 (= all cores, which replicas would oversubscribe)."""
    from pathlib import Path

    data: dict[str, Any] = settings.model_dump(mode="python")
    for key, value in data.items():
        if isinstance(value, Path):
            data[key] = str(value.expanduser().resolve())
    for key in ("secret_id", "secret_key", "master_key", "s3_access_key_id", "s3_secret_access_key"):
        data[key] = None  # engines need no credentials: keep them on the API node
    threads = max(1, int(settings.ray_num_cpus))
    for key in ("diffusion_threads", "onnx_threads"):
        if not data.get(key):
            data[key] = threads
    return data


class EngineReplica:
    """What runs inside a Serve replica: one engine object built from the node's settings, called with
    plain data."""

    def __init__(
        self,
        engine_name: str,
        deadline_s: float,
        loopback: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> None:
        if loopback:
            bind_replica_grpc_to_loopback()
        self.name = engine_name
        self.deadline_s = deadline_s
        cls: type[BaseEngine] = plugins.resolve("engine", engine_name, engines.REGISTRY)
        if settings is not None:
            from restyle.config import Settings
            from restyle.service import configured_catalogue

            self.settings: Any = Settings(**settings)
            self.engine: BaseEngine = cls.from_settings(self.settings)
            # a style its engine cannot run here fails the deployment, naming it
            for style in configured_catalogue(self.settings).values():
                if style.engine == engine_name:
                    self.engine.check_style(style)
        else:
            self.settings = None
            self.engine = cls()
        self._built()

    def _built(self) -> None:
        """Called once the engine is built: a subclass finishes its own setup here."""

    def describe(self) -> dict[str, Any]:
        """What this replica was built with (tests, operators)."""
        out: dict[str, Any] = {"pid": os.getpid(), "engine": type(self.engine).__name__}
        for key in ("device", "checkpoint", "steps"):
            if hasattr(self.engine, key):
                out[key] = str(getattr(self.engine, key))
        if self.settings is not None:
            out["diffusion_models"] = str(self.settings.diffusion_models)
            out["diffusion_threads"] = self.settings.diffusion_threads
        try:
            import torch

            out["torch_threads"] = torch.get_num_threads()
        except ImportError:
            pass
        return out

    def stylize(
        self, image: np.ndarray, style: Style, strength: float, prompt: str, negative_prompt: str, seed: int
    ) -> np.ndarray:
        request = self._request(style, strength, prompt, negative_prompt, seed)
        return self.engine.stylize(np.asarray(image), request)

    def _request(
        self, style: Style, strength: float, prompt: str, negative_prompt: str, seed: int
    ) -> StyleRequest:
        deadline = time.monotonic() + self.deadline_s

        def checkpoint() -> None:
            if time.monotonic() > deadline:
                msg = f"The job exceeded its time budget of {self.deadline_s:g} s."
                raise errors.RequestTimeout(msg)

        return StyleRequest(
            style=style,
            strength=strength,
            prompt=prompt,
            negative_prompt=negative_prompt,
            seed=seed,
            checkpoint=checkpoint,
        )

    def pid(self) -> int:
        return os.getpid()


def batching_of(engine_cls: Any, settings: Any) -> tuple[int, float]:
    """(batch size, wait in s) of an engine class on Ray: (1, 0) when it does not paint in batches."""
    batching = getattr(engine_cls, "batching", None)
    if batching is None or not hasattr(engine_cls, "stylize_many"):
        return 1, 0.0
    size, wait_s = batching(settings)
    return max(1, int(size)), max(0.0, float(wait_s))


_BATCHED: dict[str, Any] = {}


def batched_replica_class() -> Any:
    """:class:`EngineReplica` with a ``@serve.batch`` method (made once Ray is imported, see the module's
    note on late imports)."""
    if "cls" in _BATCHED:
        return _BATCHED["cls"]
    import asyncio

    from ray import serve

    class BatchedEngineReplica(EngineReplica):
        """Calls that arrive together are painted together (``stylize_batched``)."""

        def _built(self) -> None:
            size, wait_s = batching_of(type(self.engine), self.settings)
            batched: Any = self._batch
            batched.set_max_batch_size(size)
            batched.set_batch_wait_timeout_s(wait_s)

        async def _batch(
            self,
            images: list[np.ndarray],
            styles: list[Style],
            strengths: list[float],
            prompts: list[str],
            negatives: list[str],
            seeds: list[int],
        ) -> list[Any]:
            requests = [
                self._request(*args)
                for args in zip(styles, strengths, prompts, negatives, seeds, strict=True)
            ]
            many = self.engine.stylize_many  # type: ignore[attr-defined]
            results = await asyncio.to_thread(many, [np.asarray(i) for i in images], requests)
            return [(r, len(images)) for r in results]

        # serve.batch finds ``self`` by the function's name: it must stay ``_batch``
        _batch: Any = serve.batch(max_batch_size=4, batch_wait_timeout_s=0.01)(cast(Any, _batch))  # type: ignore[no-redef]

        async def stylize_batched(
            self,
            image: np.ndarray,
            style: Style,
            strength: float,
            prompt: str,
            negative_prompt: str,
            seed: int,
        ) -> dict[str, Any]:
            """One request, painted with the others that arrived within the batch wait: its image, and how
            many requests its batch held."""
            batched: Any = self._batch
            result, size = await batched(image, style, strength, prompt, negative_prompt, seed)
            if isinstance(result, BaseException):
                raise result
            return {"image": result, "batch": size}

    _BATCHED["cls"] = BatchedEngineReplica
    return BatchedEngineReplica


class RayBackend:
    """The Ray connection of one API node and the Serve applications of its engines."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.started_ray = False
        self.handles: dict[str, Any] = {}
        self.batched: set[str] = set()  # engines deployed with a @serve.batch method
        self._lock = threading.Lock()
        self._closed = False

    def connect(self, names: list[str]) -> None:
        s = self.settings
        if s.ray_address == "local":
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            check_loopback_patch()
        import ray
        from ray import serve

        if not ray.is_initialized():
            if s.ray_address == "local":
                # a private cluster for this node: loopback only, no dashboard, sized for its replicas
                need = len(names) * s.ray_replicas * s.ray_num_cpus
                ray.init(
                    address="local",
                    include_dashboard=False,
                    num_cpus=max(int(need + 0.999), os.cpu_count() or 1),
                    object_store_memory=s.ray_object_store_mb * 1024 * 1024,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                    configure_logging=False,
                )
                self.started_ray = True
            else:
                ray.init(address=s.ray_address, log_to_driver=False, configure_logging=False)
        serve.start(proxy_location="Disabled")
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        has_gpu = float(resources.get("GPU", 0)) > 0
        for name in names:
            self.handles[name] = self._deploy(name, has_gpu)
        log.info("engines on Ray Serve: %s (GPUs in cluster: %s)", ", ".join(names), has_gpu)

    def _deploy(self, name: str, has_gpu: bool) -> Any:
        from ray import serve

        s = self.settings
        app_name = APP_PREFIX + name
        engine_cls = plugins.resolve("engine", name, engines.REGISTRY)
        batch_size, _ = batching_of(engine_cls, s)
        if batch_size > 1:
            self.batched.add(name)
        if self.settings.ray_address != "local" and app_name in serve.status().applications:
            return serve.get_app_handle(app_name)  # another node deployed it already (same settings)
        wants_gpu = bool(engine_cls.uses_gpu)
        options: dict[str, Any] = {"num_cpus": s.ray_num_cpus}
        if has_gpu and wants_gpu and s.ray_num_gpus > 0:
            options["num_gpus"] = s.ray_num_gpus
        deployment = serve.deployment(
            name=f"engine-{name}",
            num_replicas=s.ray_replicas,
            max_ongoing_requests=max(s.ray_max_ongoing_requests, batch_size),
            max_queued_requests=s.ray_max_queued_requests,
            ray_actor_options=options,
        )(batched_replica_class() if batch_size > 1 else EngineReplica)
        loopback = s.ray_address == "local"
        app = deployment.bind(name, s.job_timeout_s, loopback, node_settings(s))
        return serve.run(app, name=app_name, route_prefix=None)

    def ready(self) -> None:
        from ray import serve

        status = serve.status().applications
        for name in self.handles:
            app = status.get(APP_PREFIX + name)
            state = str(getattr(app, "status", "MISSING"))
            if not state.endswith("RUNNING"):
                msg = f"Serve application {APP_PREFIX + name} is {state}"
                raise RuntimeError(msg)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.started_ray:  # our private cluster: stop it (replicas, controller, raylet, GCS)
            import ray
            from ray import serve

            try:
                serve.shutdown()  # type: ignore[no-untyped-call]
            finally:
                ray.shutdown()  # type: ignore[no-untyped-call]


class RemoteEngine(BaseEngine):
    """A :class:`BaseEngine` whose ``stylize`` runs on a Ray Serve replica."""

    def __init__(self, name: str, backend: RayBackend) -> None:
        self.name = name
        self.backend = backend

    def stylize(self, image: U8, request: StyleRequest) -> U8:
        from ray.serve.exceptions import BackPressureError

        request.checkpoint()
        handle = self.backend.handles[self.name]
        batched = self.name in self.backend.batched
        method = handle.stylize_batched if batched else handle.stylize
        response = method.remote(
            image, request.style, request.strength, request.prompt, request.negative_prompt, request.seed
        )
        try:
            while True:
                try:
                    result = response.result(timeout_s=POLL_S)
                    if batched:
                        log.info(
                            "%s on Ray Serve: style %s painted in a batch of %d",
                            self.name,
                            request.style.id,
                            result["batch"],
                        )
                        result = result["image"]
                    return np.asarray(result)
                except TimeoutError:
                    request.checkpoint()  # out of budget or abandoned: raises, and we cancel below
        except BackPressureError:
            msg = f"The {self.name} engine queue is full; retry the call later."
            raise errors.RequestLimitExceeded(msg) from None
        except errors.TencentError:
            response.cancel()
            raise
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, errors.TencentError):
                raise cause from None
            if isinstance(cause, BackPressureError):
                msg = f"The {self.name} engine queue is full; retry the call later."
                raise errors.RequestLimitExceeded(msg) from None
            raise

    def available(self) -> tuple[bool, str]:
        return True, ""

    def ready(self) -> None:
        self.backend.ready()

    def close(self) -> None:
        self.backend.close()


def remote_engines(names: list[str], settings: Any) -> dict[str, BaseEngine]:
    """Deploy (or find) one Serve application per engine; return engines that call them."""
    backend = RayBackend(settings)
    backend.connect(names)
    return {name: RemoteEngine(name, backend) for name in names}
