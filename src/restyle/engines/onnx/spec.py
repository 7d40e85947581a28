"""Model specs: where a model is and what tensor it wants; conversion to and from its value range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Layout = Literal["NCHW", "NHWC"]
ValueRange = Literal["0..1", "-1..1", "0..255"]
Channels = Literal["RGB", "BGR"]


@dataclass(frozen=True)
class ModelSpec:
    """How to feed a model: where it is and what tensor it wants."""

    path: Path
    layout: Layout = "NCHW"
    value_range: ValueRange = "0..1"
    multiple: int = 1
    channels: Channels = "RGB"
    max_side: int = 0
    tile: int = 0  # 0: the engine's
    overlap: int = -1  # -1: the engine's

    @classmethod
    def from_params(cls, params: Mapping[str, Any], base_dir: Path | None = None) -> ModelSpec:
        """Validate a ``model`` recipe's params; messages name the key, the value and what is allowed."""
        if "path" not in params:
            msg = "onnx model: 'path' (the .onnx file) is required"
            raise ValueError(msg)
        path = Path(str(params["path"])).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        choices: dict[str, tuple[str, ...]] = {
            "layout": ("NCHW", "NHWC"),
            "range": ("0..1", "-1..1", "0..255"),
            "channels": ("RGB", "BGR"),
        }
        for key, allowed in choices.items():
            if key in params and params[key] not in allowed:
                msg = f"onnx model {path.name}: {key} = {params[key]!r} is not one of {', '.join(allowed)}"
                raise ValueError(msg)
        ints = {"multiple": (1, 1024), "max_side": (0, 100_000), "tile": (0, 100_000), "overlap": (-1, 1024)}
        for key, (lo, hi) in ints.items():
            value = params.get(key, lo)
            if not isinstance(value, int) or not lo <= value <= hi:
                msg = f"onnx model {path.name}: {key} = {value!r} must be an integer in {lo}..{hi}"
                raise ValueError(msg)
        return cls(
            path=path,
            layout=params.get("layout", "NCHW"),
            value_range=params.get("range", "0..1"),
            multiple=int(params.get("multiple", 1)),
            channels=params.get("channels", "RGB"),
            max_side=int(params.get("max_side", 0)),
            tile=int(params.get("tile", 0)),
            overlap=int(params.get("overlap", -1)),
        )


def to_model(image: U8, spec: ModelSpec) -> F32:
    """RGB uint8 HxWx3 -> HxWx3 float32 in the model's channel order and value range."""
    if spec.channels == "BGR":
        image = np.ascontiguousarray(image[:, :, ::-1])
    if spec.value_range == "0..255":
        return image.astype(np.float32)
    if spec.value_range == "-1..1":
        return np.multiply(image, np.float32(2.0 / 255.0), dtype=np.float32) - np.float32(1.0)
    return np.multiply(image, np.float32(1.0 / 255.0), dtype=np.float32)


def from_model(out: F32, spec: ModelSpec) -> U8:
    """Inverse of :func:`to_model`, with rounding and clipping (``out`` is overwritten)."""
    if spec.value_range == "-1..1":
        out += np.float32(1.0)
        out *= np.float32(127.5)
    elif spec.value_range == "0..1":
        out *= np.float32(255.0)
    out += np.float32(0.5)
    np.clip(out, 0, 255, out=out)
    img = out.astype(np.uint8)
    if spec.channels == "BGR":
        img = img[:, :, ::-1]
    return np.ascontiguousarray(img)
