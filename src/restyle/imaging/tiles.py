"""Tiling: run a model over overlapping tiles of a large image and blend the results without seams.

Shared by the onnx engine and the ESRGAN upscaler: memory is bounded by the tile size, not the image size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Starts of tiles of ``tile`` pixels covering ``length``; the last one ends at ``length``."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def ramps(starts: list[int], tile: int, length: int) -> list[F32]:
    """1-D weights per tile: linear over each overlap with its neighbours, summing to one everywhere."""
    out = []
    for i, s in enumerate(starts):
        n = min(tile, length - s)
        w = np.ones(n, np.float32)
        if i > 0:  # rising edge over the overlap with the previous tile
            ov = starts[i - 1] + tile - s
            if ov > 0:
                w[:ov] = (np.arange(ov, dtype=np.float32) + 0.5) / ov
        if i + 1 < len(starts):  # falling edge over the overlap with the next tile
            ov = s + n - starts[i + 1]
            if ov > 0:
                w[n - ov :] = 1.0 - (np.arange(ov, dtype=np.float32) + 0.5) / ov
        out.append(w)
    total = np.zeros(length, np.float32)  # where three tiles meet (a short last step), renormalise
    for s, w in zip(starts, out, strict=True):
        total[s : s + len(w)] += w
    return [w / total[s : s + len(w)] for s, w in zip(starts, out, strict=True)]


def tiled(
    image: np.ndarray,
    fn: Callable[[np.ndarray], F32],
    *,
    tile: int,
    overlap: int,
    scale: int = 1,
    between: Callable[[], None] = lambda: None,
) -> F32:
    """Run ``fn`` over overlapping tiles of an HxWxC image and blend the HsxWsxC' results.

    ``fn`` must return ``scale`` times the tile size. Tiles are all ``tile`` pixels a side when the image is
    larger (the last one is moved back to end at the border), so a model sees few distinct shapes. Weights
    are separable linear ramps over each overlap that sum to one, so a region covered by one tile is that
    tile's output exactly. ``overlap`` is kept at most half a tile, so at most two tiles meet per axis.
    """
    h, w = image.shape[:2]
    if h <= tile and w <= tile:
        return fn(image)
    overlap = max(0, min(overlap, tile // 2))
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    wy = ramps(ys, tile, h)
    wx = ramps(xs, tile, w)
    out: F32 | None = None
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            between()
            piece = fn(image[y0 : y0 + tile, x0 : x0 + tile])
            if out is None:
                out = np.zeros((h * scale, w * scale, piece.shape[2]), np.float32)
            ry = np.repeat(wy[i], scale)
            rx = np.repeat(wx[j], scale)
            weight = ry[:, None, None] * rx[None, :, None]
            ph, pw = piece.shape[:2]
            out[y0 * scale : y0 * scale + ph, x0 * scale : x0 * scale + pw] += piece * weight
    assert out is not None
    return out
