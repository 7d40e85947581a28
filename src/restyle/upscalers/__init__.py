"""EnhanceImage: sharpen / clarify (or super-resolve) the stylised image.

Each file exports ``Upscaler`` with ``enhance(image) -> image`` of the same size.
"""

from __future__ import annotations

import numpy as np

from restyle.plugins import Plugin


class BaseUpscaler(Plugin):
    def enhance(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError
