"""run(job, plugins) -> Result: the numbered steps of ImageToImage, nothing else.

Each step's module docstring starts with its number here (tests/pipeline/test_step_numbers.py).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from restyle import imaging
from restyle.engines import BaseEngine
from restyle.loaders import BaseLoader
from restyle.moderators import BaseModerator
from restyle.ops import heap
from restyle.pipeline import decode, deliver, encode, enhance, frame, label, moderate, restore, stylize
from restyle.pipeline.check import Limits, check_job
from restyle.pipeline.job import Job, Result
from restyle.provenance import BaseProvenance, NoProvenance
from restyle.provenance.facts import effective_parameters
from restyle.restorers import BaseRestorer
from restyle.storages import BaseStorage
from restyle.styles import Style
from restyle.upscalers import BaseUpscaler


@dataclass
class Plugins:
    """Everything the pipeline does I/O or heavy lifting through, chosen by configuration."""

    engines: dict[str, BaseEngine]
    inline_loader: BaseLoader
    url_loader: BaseLoader
    moderator: BaseModerator
    restorer: BaseRestorer
    upscaler: BaseUpscaler
    storage: BaseStorage
    catalogue: dict[str, Style]
    #: bounds how many jobs decode and stylise at once in this process (memory and CPU)
    compute: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(2))
    #: C2PA manifest and AIGC metadata written into every result file
    provenance: BaseProvenance = field(default_factory=NoProvenance)


@dataclass(frozen=True)
class RunLimits:
    source: decode.SourceLimits = field(default_factory=decode.SourceLimits)
    origin_max_side: int = 2000
    jpeg_quality: int = 90
    result_ttl_s: int = 3600


@contextmanager
def _timed(timings: dict[str, float], name: str, job: Job) -> Iterator[None]:
    job.enter_step(name)
    t0 = time.perf_counter()
    yield
    timings[name] = round((time.perf_counter() - t0) * 1000, 2)


@contextmanager
def _compute_slot(gate: threading.BoundedSemaphore, job: Job, pixels: int) -> Iterator[None]:
    """Wait for a compute slot within the job's remaining budget; after a large source (``pixels``),
    give the freed heap back to the OS before the next job takes the slot (``ops.heap``)."""
    while not gate.acquire(timeout=0.05):
        job.checkpoint()
    try:
        yield
    finally:
        heap.trim_after(pixels)
        gate.release()


def run(job: Job, plugins: Plugins, limits: RunLimits, *, base_url: str = "") -> Result:
    t: dict[str, float] = {}
    # 0. every parameter rule, before any download or decode
    style = check_job(job, plugins.catalogue, Limits(max_image_b64_bytes=limits.source.max_b64_bytes))
    # 1. prompt texts
    with _timed(t, "moderate_text", job):
        moderate.moderate_text(job, plugins.moderator)
    # 2. source (and logo) bytes: I/O, outside the compute gate (URL wins over base64)
    with _timed(t, "load", job):
        data, logo_bytes = decode.load_sources(
            job, inline=plugins.inline_loader, url=plugins.url_loader, limits=limits.source
        )
    _, w, h = imaging.probe(data, limits.source.decode)  # a bad size is refused before a compute slot
    with _compute_slot(plugins.compute, job, w * h):
        # 2b. the caller's logo first: an undecodable or refused logo fails before anything is stylised
        logo = None
        if logo_bytes is not None:
            with _timed(t, "decode_logo", job):
                logo = decode.decode_logo(logo_bytes, limits.source)  # RGBA: alpha kept
                del logo_bytes
            with _timed(t, "moderate_logo", job):
                moderate.moderate_logo(logo, plugins.moderator)
        # 3. pixels, decoded at the smallest scale that covers the target
        with _timed(t, "decode", job):
            box = frame.draft_box(job.resolution, w, h, limits.origin_max_side)
            image = decode.decode_source(data, limits.source, box)
            del data
        # 4. input image moderation
        with _timed(t, "moderate_input", job):
            moderate.moderate_image(image, plugins.moderator, stage="input")
        # 5. ResultConfig.Resolution
        with _timed(t, "frame", job):
            framed, faces = frame.frame(image, job.resolution, limits.origin_max_side)
            label.check_fits(framed, job, logo)  # fail before stylising when LogoRect cannot fit
            del image
        # 6. style engine
        seed = job.seed if job.seed is not None else zlib.crc32(framed[::17, ::17].tobytes()) & 0x7FFFFFFF
        strength = job.strength if job.strength is not None else style.strength
        with _timed(t, "stylize", job):
            styled = stylize.stylize(framed, job, style, plugins.engines, seed)
        # 7. RestoreFace
        with _timed(t, "restore", job):
            styled = restore.restore(framed, styled, job.restore_face, plugins.restorer, faces)
            del framed
        # 8. EnhanceImage
        with _timed(t, "enhance", job):
            styled = enhance.enhance(styled, bool(job.enhance), plugins.upscaler)
        # 9. label: the caller's logo in LogoRect, or the default text
        with _timed(t, "label", job):
            styled = label.label(styled, job, logo)
            del logo
        # 10. output moderation: of exactly what is delivered, the caller's logo included
        with _timed(t, "moderate_output", job):
            moderate.moderate_image(styled, plugins.moderator, stage="output")
        # 11. encode
        with _timed(t, "encode", job):
            out, content_type = encode.encode(styled, limits.jpeg_quality)
    h, w = styled.shape[:2]
    result = Result("", out, w, h, style.id, style.engine, strength, seed, t)
    return _provide(result, job, plugins, limits, content_type=content_type, base_url=base_url)


def _provide(
    result: Result, job: Job, plugins: Plugins, limits: RunLimits, *, content_type: str, base_url: str
) -> Result:
    """Steps 12 and 13 of ``run``, after the compute slot is given back: the file and the answer."""
    engine = plugins.engines[result.engine]
    r, t = result, result.timings_ms
    effective = effective_parameters(
        plugins.catalogue[r.style_id],
        engine,
        strength=r.strength,
        seed=r.seed,
        width=r.width,
        height=r.height,
    )
    # 12. provenance inside the file (C2PA manifest, AIGC XMP label)
    with _timed(t, "provenance", job):
        out = plugins.provenance.embed(r.data, content_type, effective, content_id=job.request_id)
    # 13. deliver
    with _timed(t, "deliver", job):
        result_image = deliver.deliver(
            out,
            content_type,
            rsp_img_type=job.rsp_img_type,
            storage=plugins.storage,
            ttl_s=limits.result_ttl_s,
            base_url=base_url,
        )
    return replace(r, result_image=result_image, data=out, extra={"effective": effective})
