"""Steps 2 and 3 — the source image: base64 or URL (URL wins) → bytes (2; 2b the caller's logo) → RGB
array (3), within the limits."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from restyle import errors, imaging
from restyle.loaders import BaseLoader
from restyle.pipeline.job import ImageRef, Job


@dataclass(frozen=True)
class SourceLimits:
    max_b64_bytes: int = 8 * 1024 * 1024
    max_download_bytes: int = 8 * 1024 * 1024
    download_timeout_s: float = 10.0
    decode: imaging.DecodeLimits = imaging.DecodeLimits()


def load_bytes(
    ref: ImageRef, *, inline: BaseLoader, url: BaseLoader, limits: SourceLimits, field: str = "InputUrl"
) -> bytes:
    if ref.url:
        try:
            return url.load(ref, max_bytes=limits.max_download_bytes, deadline_s=limits.download_timeout_s)
        except errors.UrlIllegal as exc:  # the loader does not know which field the URL came from
            msg = f"{field}: {exc.detail}"
            raise errors.UrlIllegal(msg) from None
    return inline.load(ref, max_bytes=limits.max_b64_bytes, deadline_s=limits.download_timeout_s)


def load_sources(
    job: Job, *, inline: BaseLoader, url: BaseLoader, limits: SourceLimits
) -> tuple[bytes, bytes | None]:
    """Step 2: the source's bytes, and the caller's logo's when one is placed (URL wins over base64)."""
    data = load_bytes(job.source, inline=inline, url=url, limits=limits)
    logo = None
    if job.logo_add and job.logo is not None and job.logo.rect is not None:
        logo = load_bytes(job.logo.image, inline=inline, url=url, limits=limits, field="LogoParam.LogoUrl")
    return data, logo


def decode_source(data: bytes, limits: SourceLimits, box: tuple[int, int] | None = None) -> np.ndarray:
    return imaging.decode(data, limits.decode, draft_box=box)


def decode_logo(data: bytes, limits: SourceLimits) -> np.ndarray:
    """Step 2b: logo bytes → RGBA uint8, alpha kept so a transparent PNG composites instead of pasting a
    box. Logos follow the input's format and size caps, but may be small (no minimum side)."""
    logo_limits = replace(limits, decode=replace(limits.decode, min_side=0))
    return imaging.decode_rgba(data, logo_limits.decode)
