"""Coherent ink lines: flow-based extended difference of Gaussians (FDoG / XDoG) with texture clean-up.

After Kang, Lee and Chui (2007, 2009) and Winnemöller, Kyprianidis and Olsen (2012): a difference of
Gaussians of the grey image, smoothed along the edge tangent flow (``flow.along``) so that it joins into
long coherent strokes, then a soft threshold (``1 + tanh``) that turns it into ink. Texture lines (grass,
fur, noise) are cleaned up twice: the response is weighted by the flow's anisotropy (texture has no
dominant orientation) and by the edge strength at a coarser scale, and specks smaller than a stroke are
removed by connected components.

The ink *field* (a smooth float map) is computed on a reduced copy; ``ink`` thresholds it after upsampling,
so strokes stay crisp at any output size for the cost of a reduced copy.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic.base import F32
from restyle.engines.classic.flow import Flow, along
from restyle.engines.classic.toolkit import _a, _blur, _to


def dog_field(
    gray: F32, flow: Flow, sigma: float, *, k: float = 1.6, tau: float = 0.99, length: float = 0.0
) -> F32:
    """Flow-smoothed difference of Gaussians of a 0..1 grey image: positive on the dark side of edges and on
    dark thin structures (lines), in grey levels. ``length``: pixels of smoothing along the flow (0: none)."""
    fine = _a(_blur(gray, sigma))
    coarse = _a(_blur(gray, sigma * k))
    d = _a(coarse * np.float32(tau) - fine)
    if length > 0:
        d = along(d, flow, length=length, steps=3)
    return d


def texture_weight(flow: Flow, *, floor: float = 0.25, contrast: float = 0.002) -> F32:
    """0..1: how much a line here is a real contour rather than texture (coherent and strong edges)."""
    coherent = np.clip((flow.anisotropy - np.float32(0.2)) * np.float32(1.6), 0.0, 1.0)
    strong = np.clip(flow.strength * np.float32(1.0 / contrast), 0.0, 1.0)
    return _a(np.float32(floor) + np.float32(1.0 - floor) * coherent * strong)


def drop_specks(field: F32, *, level: float, min_area: float) -> F32:
    """Zero the parts of ``field`` whose connected pieces above ``level`` cover fewer than ``min_area`` px."""
    mask = np.asarray(field > np.float32(level), dtype=np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return field
    keep = stats[:, cv2.CC_STAT_AREA] >= max(1.0, min_area)
    keep[0] = True  # background: the field below ``level`` stays as it is
    # pixels of small pieces (and their faint surroundings, via a small dilation) are cleared
    small = np.asarray(~keep[labels], dtype=np.uint8)
    small = np.asarray(cv2.dilate(small, np.ones((3, 3), np.uint8)), np.uint8)
    return _a(np.where(small > 0, np.float32(0.0), field))


def ink(field: F32, shape: tuple[int, ...], *, epsilon: float, phi: float) -> F32:
    """Ink coverage 0..1 from a DoG field: ``tanh(phi * (field - epsilon))`` where it is above ``epsilon``,
    thresholded after upsampling to ``shape`` so that the strokes are crisp at the output size."""
    up = _a(_to(field, shape, cv2.INTER_LINEAR))
    return _a(np.tanh(np.maximum(up - np.float32(epsilon), np.float32(0.0)) * np.float32(phi)))
