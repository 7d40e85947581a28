"""The effective parameters of a result: what was really used, after defaults and clamping."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import restyle
from restyle.styles import Style


def effective_parameters(
    style: Style, engine: Any, *, strength: float, seed: int, width: int, height: int
) -> dict[str, Any]:
    """``{"Engine", "Model", "Version", "Style", "Strength", "Resolution", "Seed"[, "Steps"]}``.

    ``Model`` names the recipe (classic), model file (onnx) or checkpoint folder (diffusion);
    ``Steps`` is the number of denoising steps diffusion really runs.
    """
    model = style.recipe
    source = style.params.get("checkpoint") or style.params.get("path")
    if source:
        model = f"{style.recipe}:{PurePath(str(source)).name}"
    out: dict[str, Any] = {
        "Engine": style.engine,
        "Model": model,
        "Version": restyle.__version__,
        "Style": style.id,
        "Strength": round(float(strength), 4),
        "Resolution": f"{width}x{height}",
        "Seed": int(seed),
    }
    if style.engine == "diffusion":
        from restyle.engines.diffusion import effective_steps

        asked: Any = style.params.get("steps") or getattr(engine, "steps", 20)  # the style's preset first
        out["Steps"] = effective_steps(int(asked), float(strength))[1]
    return out
