"""The null restorer: RestoreFace is accepted and has no effect."""

from __future__ import annotations

import numpy as np

from restyle.faces import Box
from restyle.restorers import BaseRestorer


class Restorer(BaseRestorer):
    name = "none"

    def restore(
        self, original: np.ndarray, stylized: np.ndarray, max_faces: int, faces: list[Box] | None = None
    ) -> np.ndarray:
        return stylized
