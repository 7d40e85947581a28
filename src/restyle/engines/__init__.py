"""Style engines: ``stylize(image, request) -> image`` on RGB uint8 arrays.

Each file exports ``Engine``. Register a new one here or name it by dotted path in the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from restyle.imaging.arrays import U8
from restyle.plugins import Plugin
from restyle.styles import Style

if TYPE_CHECKING:
    from restyle.config import Settings

REGISTRY = {
    "identity": "restyle.engines.identity:Engine",
    "classic": "restyle.engines.classic:Engine",
    "onnx": "restyle.engines.onnx:Engine",
    "diffusion": "restyle.engines.diffusion:Engine",
}


@dataclass(frozen=True)
class StyleRequest:
    """What an engine receives besides the image."""

    style: Style
    strength: float  # (0, 1]: how far the output moves from the input
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    #: call between expensive stages; raises RequestTimeout once the job's budget is spent
    checkpoint: Callable[[], None] = field(default=lambda: None)
    #: engines that work in steps (diffusion) report ``(done, total)`` here, when given
    progress: Callable[[int, int], None] | None = None


class BaseEngine(Plugin):
    """Base class of every engine. Subclasses set ``name`` and implement ``stylize``.

    Engines whose styles come from the operator's settings (model files) add them to the catalogue in
    the ``configure_catalogue`` class hook.

    At startup every catalogue entry naming the engine goes through ``check_style``: a recipe typo or a
    missing model file stops startup, naming the style, instead of failing calls later.
    """

    name = "base"
    #: Ray Serve gives replicas of this engine a GPU when the cluster has one
    uses_gpu = False

    def stylize(self, image: U8, request: StyleRequest) -> U8:
        """Return a new RGB uint8 image of the same size as ``image``."""
        raise NotImplementedError

    @classmethod
    def configure_catalogue(cls, catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
        """The catalogue after this engine's settings added styles or switched ids to it (default: as is).

        Called for every registered engine at startup (``service.configured_catalogue``), before any
        engine is built, so it must not load models.
        """
        return dict(catalogue)

    def check_style(self, style: Style) -> None:
        """Raise, naming the style, when this engine cannot render ``style`` (recipe, params, files)."""

    def available(self) -> tuple[bool, str]:
        """(works here, why not) for ``restyle doctor``."""
        return True, ""
