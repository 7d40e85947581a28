"""Steps 1, 2b, 4 and 10 — moderation of the prompt texts (1), the caller's logo (2b), the input image
(4) and the output image (10)."""

from __future__ import annotations

import numpy as np

from restyle import errors
from restyle.moderators import BaseModerator
from restyle.pipeline.job import Job


def moderate_text(job: Job, moderator: BaseModerator) -> None:
    fields = {k: v for k, v in (("Prompt", job.prompt), ("NegativePrompt", job.negative_prompt)) if v}
    if fields:
        moderator.check_text(fields)


def moderate_image(image: np.ndarray, moderator: BaseModerator, *, stage: str) -> None:
    moderator.check_image(image, "input" if stage == "input" else "output")


def moderate_logo(logo: np.ndarray, moderator: BaseModerator) -> None:
    """The caller's LogoParam image is an input like InputImage: refused → ImageIllegalDetected.

    It is judged as it would appear: an RGBA logo is composited over mid-grey, so colour hidden under
    transparent pixels can neither smuggle content in nor mask it.
    """
    rgb = logo[..., :3]
    if logo.ndim == 3 and logo.shape[2] == 4:
        alpha = logo[..., 3:4].astype(np.float32) / 255.0
        rgb = (rgb.astype(np.float32) * alpha + 128.0 * (1.0 - alpha)).round().astype(np.uint8)
    try:
        moderator.check_image(np.ascontiguousarray(rgb), "input")
    except errors.ImageIllegalDetected as exc:
        msg = f"LogoParam: {exc.detail}"
        raise errors.ImageIllegalDetected(msg) from None
