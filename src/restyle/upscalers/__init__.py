"""EnhanceImage: sharpen / clarify (or super-resolve) the stylised image.

Each file exports ``Upscaler`` with ``enhance(image) -> image`` of the same size.
"""

from __future__ import annotations

from restyle.imaging.arrays import U8
from restyle.plugins import Plugin

#: short names an operator may set in the settings (or a dotted path ``module:Class``)
REGISTRY = {
    "none": "restyle.upscalers.none:Upscaler",
    "sharpen": "restyle.upscalers.sharpen:Upscaler",
    "esrgan": "restyle.upscalers.esrgan:Upscaler",
}


class BaseUpscaler(Plugin):
    def enhance(self, image: U8) -> U8:
        raise NotImplementedError
