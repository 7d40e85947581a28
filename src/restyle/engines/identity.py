"""The null engine: returns the input unchanged (dry runs and tests of the surrounding pipeline)."""

from __future__ import annotations

from restyle.engines import BaseEngine, StyleRequest
from restyle.imaging.arrays import U8


class Engine(BaseEngine):
    name = "identity"

    def stylize(self, image: U8, request: StyleRequest) -> U8:
        return image.copy()
