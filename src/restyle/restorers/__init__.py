"""RestoreFace: bring back the detail and identity of up to N faces after stylisation.

Each file exports ``Restorer`` with ``restore(original, stylized, max_faces) -> image`` (both RGB uint8
of the same size).
"""

from __future__ import annotations

import numpy as np

from restyle.faces import Box
from restyle.plugins import Plugin


class BaseRestorer(Plugin):
    def restore(
        self, original: np.ndarray, stylized: np.ndarray, max_faces: int, faces: list[Box] | None = None
    ) -> np.ndarray:
        """``faces``: boxes already found by the pipeline (largest first), or None to detect here."""
        raise NotImplementedError
