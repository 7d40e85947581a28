"""Step 6 — the style engine named by the catalogue entry."""

from __future__ import annotations

import numpy as np

from restyle.engines import BaseEngine, StyleRequest
from restyle.pipeline.job import Job
from restyle.styles import Style


def stylize(
    image: np.ndarray, job: Job, style: Style, engines: dict[str, BaseEngine], seed: int
) -> np.ndarray:
    engine = engines[style.engine]
    request = StyleRequest(
        style=style,
        strength=job.strength if job.strength is not None else style.strength,
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        seed=seed,
        checkpoint=job.engine_checkpoint,
        progress=job.engine_progress,
    )
    out = engine.stylize(image, request)
    if out.shape != image.shape or out.dtype != np.uint8:
        msg = f"engine {style.engine} returned {out.shape} {out.dtype} for a {image.shape} uint8 image"
        raise RuntimeError(msg)
    return out
