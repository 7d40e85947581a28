"""The null upscaler: EnhanceImage is accepted and has no effect."""

from __future__ import annotations

import numpy as np

from restyle.upscalers import BaseUpscaler


class Upscaler(BaseUpscaler):
    name = "none"

    def enhance(self, image: np.ndarray) -> np.ndarray:
        return image
