"""Composition root: settings → store, limiter, plugins and limits, resolved once at startup."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restyle import engines, imaging, keyfile, plugins, provenance
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

STORAGES = {
    "local": "restyle.storages.local:Storage",
    "memory": "restyle.storages.memory:Storage",
    "s3": "restyle.storages.s3:Storage",
}
LIMITERS = {"memory": "restyle.limiters.memory:Limiter", "redis": "restyle.limiters.redis:Limiter"}
MODERATORS = {
    "none": "restyle.moderators.none:Moderator",
    "wordlist": "restyle.moderators.wordlist:Moderator",
    "nsfw": "restyle.moderators.nsfw:Moderator",
    "wordlist+nsfw": "restyle.moderators.nsfw:WordlistAndNsfw",
}
RESTORERS = {"none": "restyle.restorers.none:Restorer", "detail": "restyle.restorers.detail:Restorer"}
UPSCALERS = {
    "none": "restyle.upscalers.none:Upscaler",
    "sharpen": "restyle.upscalers.sharpen:Upscaler",
    "esrgan": "restyle.upscalers.esrgan:Upscaler",
}
DEFAULT_ACCOUNT = "default"


def _link_secret(data_dir: Path) -> bytes:
    return keyfile.read_or_create(data_dir / "links.key", LinkSigner.MIN_SECRET_BYTES)


def configured_catalogue(settings: Settings) -> dict[str, Style]:
    """The built-in catalogue with the learned-engine settings applied (onnx models, diffusion styles)."""
    from restyle.engines import diffusion, onnx

    return diffusion.configure_catalogue(onnx.configure_catalogue(catalogue(), settings), settings)


def build_plugin(kind: str, name: str, registry: dict[str, str], settings: Settings) -> Any:
    """Instantiate a plugin; classes with options of their own take them from ``from_settings``."""
    cls: Any = plugins.resolve(kind, name, registry)
    return cls.from_settings(settings) if hasattr(cls, "from_settings") else cls()


def build_storage(settings: Settings, signer: LinkSigner) -> BaseStorage:
    cls: Any = plugins.resolve("storage", settings.storage, STORAGES)
    if hasattr(cls, "from_settings"):  # plugins with their own options (s3)
        return cls.from_settings(settings, signer)  # type: ignore[no-any-return]
    if settings.storage == "local":
        return cls(settings.data_dir / "results", signer)  # type: ignore[no-any-return]
    return cls(signer)  # type: ignore[no-any-return]


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
        """Graceful shutdown: give back held job leases, stop remote engines (each if it can)."""
        for part in (self.limiter, *self.plugins.engines.values()):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    close()
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
    moderator_cls: Any = plugins.resolve("moderator", settings.moderator, MODERATORS)
    if hasattr(moderator_cls, "from_settings"):  # plugins with options of their own (nsfw)
        moderator = moderator_cls.from_settings(settings)
    elif settings.moderator == "wordlist":
        moderator = moderator_cls(settings.blocked_terms_file)
    else:
        moderator = moderator_cls()
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
            check = getattr(engine_objs[style.engine], "check_style", None)
            if check is not None:
                check(style)
    bundle = Plugins(
        engines=engine_objs,
        inline_loader=inline_loader.Loader(),
        url_loader=http_loader.Loader(allowlist=settings.url_allowlist, max_redirects=settings.max_redirects),
        moderator=moderator,
        restorer=plugins.resolve("restorer", settings.restorer, RESTORERS)(),
        upscaler=build_plugin("upscaler", settings.upscaler, UPSCALERS, settings),
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
    limiter_cls: Any = plugins.resolve("limiter", settings.limiter, LIMITERS)
    limiter = limiter_cls.from_settings(settings) if hasattr(limiter_cls, "from_settings") else limiter_cls()
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
