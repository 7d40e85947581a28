"""Steps 1, 3 and 8 — moderation of the prompt texts, the input image and the output image."""

from __future__ import annotations

import numpy as np

from restyle.moderators import BaseModerator
from restyle.pipeline.job import Job


def moderate_text(job: Job, moderator: BaseModerator) -> None:
    fields = {k: v for k, v in (("Prompt", job.prompt), ("NegativePrompt", job.negative_prompt)) if v}
    if fields:
        moderator.check_text(fields)


def moderate_image(image: np.ndarray, moderator: BaseModerator, *, stage: str) -> None:
    moderator.check_image(image, "input" if stage == "input" else "output")
