"""The null upscaler: EnhanceImage is accepted and has no effect."""

from __future__ import annotations

from restyle.imaging.arrays import U8
from restyle.upscalers import BaseUpscaler


class Upscaler(BaseUpscaler):
    name = "none"

    def enhance(self, image: U8) -> U8:
        return image
