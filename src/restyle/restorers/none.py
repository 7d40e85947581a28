"""The null restorer: RestoreFace is accepted and has no effect."""

from __future__ import annotations

from restyle.faces import Box
from restyle.imaging.arrays import U8
from restyle.restorers import BaseRestorer


class Restorer(BaseRestorer):
    name = "none"

    def restore(self, original: U8, stylized: U8, max_faces: int, faces: list[Box] | None = None) -> U8:
        return stylized
