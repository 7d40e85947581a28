"""The null moderator: allows everything."""

from __future__ import annotations

import numpy as np

from restyle.moderators import BaseModerator, Stage


class Moderator(BaseModerator):
    name = "none"

    def check_text(self, fields: dict[str, str]) -> None:
        return None

    def check_image(self, image: np.ndarray, stage: Stage) -> None:
        return None
