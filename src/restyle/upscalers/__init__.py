"""EnhanceImage: sharpen / clarify (or super-resolve) the stylised image.

Each file exports ``Upscaler`` with ``enhance(image) -> image`` of the same size.
"""

from __future__ import annotations

from restyle.imaging.arrays import U8
from restyle.plugins import Plugin


class BaseUpscaler(Plugin):
    def enhance(self, image: U8) -> U8:
        raise NotImplementedError
