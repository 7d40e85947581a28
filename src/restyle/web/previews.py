"""Style previews: the bundled photo run through the real pipeline, once per style, kept in memory.

The photo is NASA's portrait of astronaut Eileen Collins (public domain, via scikit-image), 256 px.
Each preview is the same job a client would send (``LogoAdd 0``, ``Resolution 768:768``), scaled down
to ``PREVIEW_SIDE`` px so that the gallery stays light.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from importlib import resources

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from restyle import errors, imaging
from restyle.pipeline.job import ImageRef, Job
from restyle.pipeline.run import run
from restyle.service import Service

log = logging.getLogger("restyle.web")

PREVIEW_SIDE = 192
RESOLUTION = "768:768"
SOURCE = ("assets", "playground", "astronaut.jpg")


def preview_path(style_id: str) -> str:
    return f"/v1/styles/{style_id}/preview.jpg"


def render(service: Service, style_id: str) -> bytes:
    """Run the pipeline on the bundled photo in one style; a JPEG of PREVIEW_SIDE² px (blocking)."""
    photo = resources.files("restyle").joinpath(*SOURCE).read_bytes()
    job = Job(
        request_id=f"preview-{style_id}",
        source=ImageRef(base64=base64.b64encode(photo).decode("ascii")),
        styles=[style_id],
        logo_add=0,
        resolution=RESOLUTION,
        budget_s=service.settings.job_timeout_s,
    )
    result = run(job, service.plugins, service.limits)
    small = imaging.resize(imaging.decode(result.data), PREVIEW_SIDE, PREVIEW_SIDE)
    return imaging.encode_jpeg(small, quality=85)


@dataclass
class Previews:
    """Renders each style's preview on first request; concurrent first requests share one render."""

    service: Service
    _done: dict[str, bytes] = field(default_factory=dict)
    _locks: dict[str, anyio.Lock] = field(default_factory=dict)

    async def get(self, style_id: str) -> bytes:
        if style_id in self._done:
            return self._done[style_id]
        lock = self._locks.setdefault(style_id, anyio.Lock())
        async with lock:
            if style_id not in self._done:
                self._done[style_id] = await anyio.to_thread.run_sync(render, self.service, style_id)
        return self._done[style_id]

    async def warm(self) -> None:
        """Render every style's preview, one at a time (at most one core busy), so none waits for a page.

        Runs as a background task of the app's lifespan; a request for a preview that is not ready yet
        shares the render in progress through the same lock.
        """
        for style_id in list(self.service.plugins.catalogue):
            try:
                await self.get(style_id)
            except errors.TencentError as err:
                log.warning("preview of style %s failed: %s %s", style_id, err.code, err)
        log.info("playground previews ready: %d styles", len(self._done))

    async def endpoint(self, request: Request) -> Response:
        style_id = request.path_params["style_id"]
        if style_id not in self.service.plugins.catalogue:
            return PlainTextResponse(f"no style {style_id!r}\n", status_code=404)
        try:
            data = await self.get(style_id)
        except errors.TencentError as err:
            log.warning("preview of style %s failed: %s %s", style_id, err.code, err)
            return PlainTextResponse(f"preview failed: {err.code}\n", status_code=503)
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=3600"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="image/jpeg", headers=headers)
