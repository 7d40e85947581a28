"""The null engine: returns the input unchanged (dry runs and tests of the surrounding pipeline)."""

from __future__ import annotations

import numpy as np

from restyle.engines import BaseEngine, StyleRequest


class Engine(BaseEngine):
    name = "identity"

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        return image.copy()
