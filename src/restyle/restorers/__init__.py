"""RestoreFace: bring back the detail and identity of up to N faces after stylisation.

Each file exports ``Restorer`` with ``restore(original, stylized, max_faces) -> image`` (both RGB uint8
of the same size).
"""

from __future__ import annotations

from restyle.faces import Box
from restyle.imaging.arrays import U8
from restyle.plugins import Plugin

#: short names an operator may set in the settings (or a dotted path ``module:Class``)
REGISTRY = {"none": "restyle.restorers.none:Restorer", "detail": "restyle.restorers.detail:Restorer"}


class BaseRestorer(Plugin):
    def restore(self, original: U8, stylized: U8, max_faces: int, faces: list[Box] | None = None) -> U8:
        """``faces``: boxes already found by the pipeline (largest first), or None to detect here."""
        raise NotImplementedError
