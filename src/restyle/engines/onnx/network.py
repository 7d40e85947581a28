"""A loaded model: a plain session, plus statistics/tile sessions when it normalises over space."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from restyle.engines.onnx.spec import F32, U8, ModelSpec, from_model, to_model
from restyle.imaging import fit
from restyle.imaging.tiles import tiled


def blend(original: U8, styled: U8, strength: float) -> U8:
    """Move from ``original`` towards ``styled`` by ``strength`` (monotonic in strength)."""
    # Copied from restyle.engines.classic.blend
    out = cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)
    return np.ascontiguousarray(out, dtype=np.uint8)


@dataclass
class Network:
    """One model: a plain session, plus statistics/tile sessions when it normalises over space."""

    spec: ModelSpec
    session: Any
    input_name: str
    stats: Any = None
    tiles: Any = None
    stat_names: list[str] = field(default_factory=list)

    def run_tensor(self, x: F32, extra: Mapping[str, np.ndarray], session: Any = None) -> F32:
        """HxWxC float in model form -> HxWxC float; pads to ``multiple`` and crops back."""
        h, w = x.shape[:2]
        m = self.spec.multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > max(ph, pw) else "edge")
        t = x.transpose(2, 0, 1)[None] if self.spec.layout == "NCHW" else x[None]
        sess = session or self.session
        y = sess.run(None, {self.input_name: np.ascontiguousarray(t), **extra})[0][0]
        y = y.transpose(1, 2, 0) if self.spec.layout == "NCHW" else y
        oh, ow = y.shape[0] * h // (h + ph), y.shape[1] * w // (w + pw)
        return np.asarray(y[:oh, :ow], dtype=np.float32)

    def __call__(
        self,
        image: U8,
        extra: Mapping[str, np.ndarray],
        *,
        tile: int,
        overlap: int,
        stats_side: int = 0,
        between: Callable[[], None] = lambda: None,
    ) -> U8:
        h, w = image.shape[:2]
        spec = self.spec
        if (h <= tile and w <= tile) or self.tiles is None:
            out = tiled(
                image,
                lambda t: self.run_tensor(to_model(t, spec), extra),
                tile=tile,
                overlap=overlap,
                between=between,
            )
            return from_model(out, spec)
        # statistics of the whole picture, from a copy at most stats_side large (exact when it fits)
        small = fit(image, stats_side or tile)
        values = self.stats.run(
            None, {self.input_name: _as_batch(to_model(small, self.spec), self.spec), **extra}
        )
        shared = {**extra, **dict(zip(self.stat_names, values, strict=True))}
        out = tiled(
            image,
            lambda t: self.run_tensor(to_model(t, spec), shared, self.tiles),
            tile=tile,
            overlap=overlap,
            between=between,
        )
        return from_model(out, spec)


def _as_batch(x: F32, spec: ModelSpec) -> F32:
    h, w = x.shape[:2]
    m = spec.multiple
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="edge")
    t = x.transpose(2, 0, 1)[None] if spec.layout == "NCHW" else x[None]
    return np.ascontiguousarray(t)
