"""Composition root: settings → store, limiter, plugins and limits, resolved once at startup."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restyle import (
    engines,
    imaging,
    keyfile,
    limiters,
    moderators,
    plugins,
    provenance,
    restorers,
    storages,
    upscalers,
)
from restyle.accounts.store import Store, load_master_key
from restyle.config import Settings
from restyle.limiters import BaseLimiter
from restyle.loaders import http as http_loader
from restyle.loaders import inline as inline_loader
from restyle.ops.metrics import CountingGate
from restyle.pipeline.decode import SourceLimits
from restyle.pipeline.run import Plugins, RunLimits
from restyle.storages import BaseStorage, LinkSigner
from restyle.styles import Style, catalogue

log = logging.getLogger("restyle")

DEFAULT_ACCOUNT = "default"


def _link_secret(data_dir: Path) -> bytes:
    return keyfile.read_or_create(data_dir / "links.key", LinkSigner.MIN_SECRET_BYTES)


def configured_catalogue(settings: Settings) -> dict[str, Style]:
    """The built-in catalogue after every registered engine applied its settings to it.

    Each engine class's ``configure_catalogue`` hook may add styles or switch existing ids to itself
    (onnx: ``onnx_models``, ``learned_tencent_styles``; diffusion: ``diffusion_styles``), in registry order.
    """
    cat = catalogue()
    for name in engines.REGISTRY:
        engine_cls: type[engines.BaseEngine] = plugins.resolve("engine", name, engines.REGISTRY)
        cat = engine_cls.configure_catalogue(cat, settings)
    return cat


def build_plugin(kind: str, name: str, registry: dict[str, str], settings: Settings) -> Any:
    """Resolve a plugin by name and build it from the settings (``Plugin.from_settings``)."""
    cls: type[plugins.Plugin] = plugins.resolve(kind, name, registry)
    return cls.from_settings(settings)


def build_storage(settings: Settings, signer: LinkSigner) -> BaseStorage:
    cls: type[BaseStorage] = plugins.resolve("storage", settings.storage, storages.REGISTRY)
    return cls.from_settings(settings, signer)


@dataclass
class Service:
    settings: Settings
    store: Store
    limiter: BaseLimiter
    plugins: Plugins
    limits: RunLimits
    signer: LinkSigner

    def close(self) -> None:
        self.store.close()

    def close_backends(self) -> None:
        """Graceful shutdown: give back held job leases, stop remote engines (``Plugin.close``)."""
        for part in (self.limiter, *self.plugins.engines.values()):
            try:
                part.close()
            except Exception:
                log.exception("closing %s failed", type(part).__name__)


def build_service(settings: Settings) -> Service:
    if settings.opencv_threads:
        import cv2

        cv2.setNumThreads(settings.opencv_threads)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / "restyle.db", load_master_key(data_dir, settings.master_key))
    signer = LinkSigner(_link_secret(data_dir))
    cat = configured_catalogue(settings)
    engine_names = sorted({s.engine for s in cat.values()})
    if settings.engine_backend == "ray":  # the same engines, run as Ray Serve replicas
        from restyle.serving.ray_serve import remote_engines

        engine_objs: dict[str, engines.BaseEngine] = remote_engines(engine_names, settings)
    else:
        engine_objs = {
            name: build_plugin("engine", name, engines.REGISTRY, settings) for name in engine_names
        }
        for style in cat.values():  # a style its engine cannot run stops startup, naming the style
            engine_objs[style.engine].check_style(style)
    bundle = Plugins(
        engines=engine_objs,
        inline_loader=inline_loader.Loader.from_settings(settings),
        url_loader=http_loader.Loader.from_settings(settings),
        moderator=build_plugin("moderator", settings.moderator, moderators.REGISTRY, settings),
        restorer=build_plugin("restorer", settings.restorer, restorers.REGISTRY, settings),
        upscaler=build_plugin("upscaler", settings.upscaler, upscalers.REGISTRY, settings),
        storage=build_storage(settings, signer),
        catalogue=cat,
        compute=CountingGate(settings.resolved_compute_threads()),
        provenance=provenance.build(settings),
    )
    limits = RunLimits(
        source=SourceLimits(
            max_b64_bytes=settings.max_image_b64_bytes,
            max_download_bytes=settings.max_download_bytes,
            download_timeout_s=settings.download_timeout_s,
            decode=imaging.DecodeLimits(max_side=settings.max_side_px, min_side=settings.min_side_px),
        ),
        origin_max_side=settings.origin_max_side,
        jpeg_quality=settings.jpeg_quality,
        result_ttl_s=settings.result_ttl_s,
    )
    limiter: BaseLimiter = build_plugin("limiter", settings.limiter, limiters.REGISTRY, settings)
    return Service(settings, store, limiter, bundle, limits, signer)


def ensure_keys(service: Service) -> tuple[str, str] | None:
    """RESTYLE_SECRET_ID/KEY make sure that key exists; a store with no key at all gets one.

    Returns a newly created (secret_id, secret_key) to print once, or None.
    """
    s = service.settings
    if s.secret_id and s.secret_key:
        service.store.ensure_key(DEFAULT_ACCOUNT, s.secret_id, s.secret_key)
        return None
    if service.store.count_keys() == 0:
        return service.store.create_key(DEFAULT_ACCOUNT)
    return None
