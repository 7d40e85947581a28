"""EnhanceImage without a learned model: unsharp mask on luminance plus a light local-contrast
(CLAHE) pass — clearer edges and texture, colours untouched."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.upscalers import BaseUpscaler


class Upscaler(BaseUpscaler):
    name = "sharpen"

    def __init__(self, amount: float = 0.8, sigma: float = 1.2, clahe_clip: float = 1.6) -> None:
        self.amount = amount
        self.sigma = sigma
        self.clahe_clip = clahe_clip

    def enhance(self, image: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
        lum = lab[:, :, 0]
        blur = cv2.GaussianBlur(lum, (0, 0), self.sigma)
        sharp = cv2.addWeighted(lum, 1 + self.amount, blur, -self.amount, 0)
        clahe = cv2.createCLAHE(clipLimit=self.clahe_clip, tileGridSize=(8, 8))  # not thread-safe: per call
        lab[:, :, 0] = clahe.apply(sharp)
        return np.ascontiguousarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))
