"""Step 0 — check_job(): every parameter rule of ImageToImage in one place, with teaching messages.

Types were checked at the wire edge (``api/shapes.py``); this checks values. Nothing is clamped
silently, except LogoAdd, whose doc says any value other than 0 means 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from restyle import errors, untrusted
from restyle.pipeline.job import ImageRef, Job
from restyle.styles import Style

RESOLUTIONS = {"origin": None, "768:768": (768, 768), "768:1024": (768, 1024), "1024:768": (1024, 768)}
RSP_IMG_TYPES = ("base64", "url")
MAX_TEXT = 256
MAX_RESTORE_FACE = 6


@dataclass(frozen=True)
class Limits:
    max_image_b64_bytes: int = 8 * 1024 * 1024


def check_url(url: str, field: str) -> None:
    """Syntax rules for InputUrl / LogoUrl (addresses are checked when fetching)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in url):
        msg = f"{field} {untrusted.shown(url)} contains control characters or lone surrogates."
        raise errors.UrlIllegal(msg)
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a bad port
    except ValueError:
        msg = f"{field} {untrusted.shown(url)} is not a valid URL."
        raise errors.UrlIllegal(msg) from None
    if parts.scheme.lower() not in ("http", "https"):
        msg = f"{field} must be an http or https URL, got scheme {untrusted.shown(parts.scheme)}."
        raise errors.UrlIllegal(msg)
    if not parts.hostname:
        msg = f"{field} {untrusted.shown(url)} has no host."
        raise errors.UrlIllegal(msg)
    if parts.username is not None or parts.password is not None:
        msg = f"{field} must not carry credentials (user:password@)."
        raise errors.UrlIllegal(msg)


def _check_image(ref: ImageRef, field: str, limits: Limits) -> None:
    if ref.url:
        check_url(ref.url, f"{field}Url" if field == "Logo" else "InputUrl")
    elif ref.base64 and len(ref.base64) >= limits.max_image_b64_bytes:
        name = "LogoImage" if field == "Logo" else "InputImage"
        msg = f"{name} is {len(ref.base64)} bytes of base64; it must be under {limits.max_image_b64_bytes}."
        raise errors.ImageSizeExceed(msg)


def check_job(job: Job, catalogue: dict[str, Style], limits: Limits | None = None) -> Style:
    """Validate every value of ``job``; return the catalogue entry of the style it will use."""
    limits = limits or Limits()
    # 1. the image
    if not job.source.url and not job.source.base64:
        raise errors.ImageEmpty()
    _check_image(job.source, "Input", limits)
    # 2. styles: several ids with a 1xx among them conflict; otherwise the first is used
    if len(job.styles) > 1 and any(s.startswith("1") for s in job.styles):
        msg = f"Styles {untrusted.shown(job.styles)}: 1xx styles cannot be mixed with other styles; pass one id."
        raise errors.StyleConflict(msg)
    style = catalogue.get(job.style_id)
    if style is None:
        msg = (
            f"Styles[0] {untrusted.shown(job.style_id)} is not a known style id (GET /v1/styles lists them)."
        )
        raise errors.ParameterValueError(msg)
    # 3. text
    for name, text in (("Prompt", job.prompt), ("NegativePrompt", job.negative_prompt)):
        if len(text) > MAX_TEXT:
            msg = f"{name} has {len(text)} characters; at most {MAX_TEXT} are allowed."
            raise errors.TextLengthExceed(msg)
    # 4. numbers and enums
    if job.strength is not None and not (math.isfinite(job.strength) and 0.0 < job.strength <= 1.0):
        msg = f"Strength {job.strength} is outside (0, 1]."
        raise errors.ParameterValueError(msg)
    if job.resolution not in RESOLUTIONS:
        msg = f"ResultConfig.Resolution {untrusted.shown(job.resolution)} is not one of {', '.join(RESOLUTIONS)}."
        raise errors.ParameterValueError(msg)
    if job.rsp_img_type not in RSP_IMG_TYPES:
        msg = f"RspImgType {untrusted.shown(job.rsp_img_type)} is not one of {', '.join(RSP_IMG_TYPES)}."
        raise errors.ParameterValueError(msg)
    if job.enhance not in (0, 1):
        msg = f"EnhanceImage {job.enhance} must be 0 or 1."
        raise errors.ParameterValueError(msg)
    if not 0 <= job.restore_face <= MAX_RESTORE_FACE:
        msg = f"RestoreFace {job.restore_face} is outside 0..{MAX_RESTORE_FACE}."
        raise errors.ParameterValueError(msg)
    # 5. the custom logo (only when a label is added)
    if job.logo_add and job.logo is not None:
        if not job.logo.image.url and not job.logo.image.base64:
            msg = "LogoParam needs LogoUrl or LogoImage."
            raise errors.ParameterValueError(msg)
        _check_image(job.logo.image, "Logo", limits)
        r = job.logo.rect
        if r is None:
            msg = "LogoParam.LogoRect is required: the label is stretched into that rectangle."
            raise errors.ParameterValueError(msg)
        if r.width <= 0 or r.height <= 0 or r.x < 0 or r.y < 0:
            msg = f"LogoParam.LogoRect {r} must have X, Y >= 0 and Width, Height > 0."
            raise errors.ParameterValueError(msg)
        size = RESOLUTIONS[job.resolution]
        if size is not None:
            check_rect_inside(r.x, r.y, r.width, r.height, *size)
    return style


def check_rect_inside(x: int, y: int, width: int, height: int, img_w: int, img_h: int) -> None:
    if x + width > img_w or y + height > img_h:
        msg = (
            f"LogoParam.LogoRect (X={x}, Y={y}, Width={width}, Height={height}) lies outside the "
            f"{img_w}x{img_h} result."
        )
        raise errors.ParameterValueError(msg)
