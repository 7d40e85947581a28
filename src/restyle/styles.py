"""The style catalogue: ``styles.toml`` (data) loaded into typed, read-only entries."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Protocol

DEFAULT_STYLE = "201"
LATENCY_CLASSES = ("fast", "medium", "slow")


@dataclass(frozen=True)
class Style:
    id: str
    zh: str
    en: str
    engine: str
    recipe: str
    strength: float
    prompt: bool
    latency: str
    params: dict[str, Any] = field(default_factory=dict)
    template: str = ""  # prompt template for engines that use prompts: "{prompt}, watercolor painting"

    def as_json(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "NameZh": self.zh,
            "NameEn": self.en,
            "Engine": self.engine,
            "Recipe": self.recipe,
            "DefaultStrength": self.strength,
            "UsesPrompt": self.prompt,
            "LatencyClass": self.latency,
        }


class Labelled(Protocol):
    """An operator's table entry (``[onnx_models.<id>]``, ``[diffusion_styles.<id>]``): its own names and
    default Strength, each empty/None when not set."""

    zh: str
    en: str
    strength: float | None


def configured(
    sid: str, cfg: Labelled, base: Style | None, *, name: str, strength: float, **fields: Any
) -> Style:
    """The catalogue entry an operator's table makes: its own names and Strength where set, else those of
    the style it replaces (``base``, the same id), else ``name`` and ``strength``."""
    return Style(
        id=sid,
        zh=cfg.zh or (base.zh if base else name),
        en=cfg.en or (base.en if base else name),
        strength=cfg.strength if cfg.strength is not None else (base.strength if base else strength),
        **fields,
    )


def parse_catalogue(data: dict[str, Any]) -> dict[str, Style]:
    out: dict[str, Style] = {}
    for sid, row in data.get("styles", {}).items():
        style = Style(id=str(sid), **row)
        if not 0.0 < style.strength <= 1.0:
            msg = f"style {sid}: strength {style.strength} is outside (0, 1]"
            raise ValueError(msg)
        if style.latency not in LATENCY_CLASSES:
            msg = f"style {sid}: latency {style.latency!r} is not one of {LATENCY_CLASSES}"
            raise ValueError(msg)
        out[style.id] = style
    return out


@cache
def catalogue() -> dict[str, Style]:
    """The built-in catalogue, in file order."""
    text = resources.files("restyle").joinpath("styles.toml").read_text("utf-8")
    return parse_catalogue(tomllib.loads(text))
