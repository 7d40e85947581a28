"""A moderator plugin for the wire tests, loaded by the server as ``tests.wire.fake_moderator:Moderator``.

It judges images by width only, so a test chooses the outcome: an input 71 px wide is refused at the
input stage, one 73 px wide passes the input stage and its (same-size, Resolution=origin) result is
refused at the output stage. Texts pass.
"""

from __future__ import annotations

import numpy as np

from restyle import errors
from restyle.moderators import BaseModerator, Stage

REFUSE_INPUT_WIDTH = 71
REFUSE_OUTPUT_WIDTH = 73


class Moderator(BaseModerator):
    name = "wire-fake"

    def check_text(self, fields: dict[str, str]) -> None:
        return None

    def check_image(self, image: np.ndarray, stage: Stage) -> None:
        width = image.shape[1]
        if stage == "input" and width == REFUSE_INPUT_WIDTH:
            msg = f"The input image did not pass moderation (stage: input, width {width})."
            raise errors.ImageIllegalDetected(msg)
        if stage == "output" and width == REFUSE_OUTPUT_WIDTH:
            msg = f"The generated image did not pass moderation (stage: output, width {width})."
            raise errors.GenerateImageFailed(msg)
