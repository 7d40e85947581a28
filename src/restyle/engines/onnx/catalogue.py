"""Catalogue wiring: the 26 built-in style weights, learned Tencent alternatives and user models from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from restyle.styles import Style, configured

if TYPE_CHECKING:
    from restyle.config import Settings

NUM_STYLES = 26
#: Tencent ids a learned style can stand in for (``learned_tencent_styles``) -> the built-in style used
TENCENT_ALTERNATIVES = {"104": "912", "133": "916", "134": "905"}


def style_weights(spec: Any, style_id: str) -> np.ndarray:
    """``style`` param -> normalised weights over the 26 built-in styles."""
    w = np.zeros(NUM_STYLES, np.float32)
    items = spec.items() if isinstance(spec, Mapping) else [(spec, 1.0)]
    for index, weight in items:
        try:
            i, wt = int(index), float(weight)
        except (TypeError, ValueError):
            i, wt = -1, 0.0
        if not 0 <= i < NUM_STYLES or wt < 0:
            msg = f"style {style_id}: style = {spec!r}; use an index 0..25 or a table {{index = weight}}"
            raise ValueError(msg)
        w[i] += wt
    if w.sum() <= 0:
        msg = f"style {style_id}: style weights {spec!r} are all zero"
        raise ValueError(msg)
    return np.asarray(w / w.sum(), dtype=np.float32)


def configure_catalogue(catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
    """The catalogue after ``learned_tencent_styles`` and ``onnx_models`` are applied.

    * ``learned_tencent_styles = ["104"]``: id 104 keeps its name and default strength but is painted by
      its learned alternative (``TENCENT_ALTERNATIVES``).
    * ``[onnx_models.<id>]``: an existing id is switched to that model; a new id is added (its ``zh`` /
      ``en`` names default to the file name).
    """
    out = dict(catalogue)
    for sid in settings.learned_tencent_styles:
        if sid not in TENCENT_ALTERNATIVES:
            known = ", ".join(sorted(TENCENT_ALTERNATIVES))
            msg = f"learned_tencent_styles: {sid!r} has no learned alternative; known: {known}"
            raise ValueError(msg)
        alt = out[TENCENT_ALTERNATIVES[sid]]
        tencent = out[sid]
        out[sid] = replace(alt, id=sid, zh=tencent.zh, en=tencent.en, strength=tencent.strength)
    for sid, cfg in settings.onnx_models.items():
        params = cfg.params()
        base = out.get(sid)
        name = Path(cfg.path).stem
        out[sid] = configured(
            sid,
            cfg,
            base,
            name=name,
            strength=1.0,
            engine="onnx",
            recipe="model",
            prompt=False,
            latency=cfg.latency,
            params=params,
        )
    return out
