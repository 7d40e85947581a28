"""Oriented brush strokes, vectorised: a jittered grid of strokes laid along the edge tangent flow.

Litwinowicz (1997) places short strokes on a jittered grid, orients them along the local edge direction,
takes their colour from the image at the stroke centre and clips them at edges; Hertzmann (1998) paints
layers of decreasing brush size, each only where the canvas still differs from the image. Both draw one
stroke at a time; here every pixel picks, among the strokes of the grid cells around it, the topmost stroke
that covers it (strokes are elongated dabs in their own frame, ``along`` the flow and ``across`` it) and
whose colour is close to the pixel's own (clipping at edges). One NumPy pass per neighbouring cell, on a
reduced canvas whose size sets the stroke size, so it costs the same for any image size.

The result also gives each pixel its stroke-local coordinates and a random id per stroke, from which the
recipes build bristle grooves, paint ridges (impasto height) and per-stroke colour jitter (broken colour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8, seed_sequence
from restyle.engines.classic.face import FACE_SIDE, face_boxes
from restyle.engines.classic.toolkit import _a


@dataclass(frozen=True)
class StrokeMap:
    """Per canvas pixel: colour of its stroke, position inside it and the stroke's random id."""

    colour: F32
    #: -1..1 from the stroke's tail to its head, along the flow
    along: F32
    #: -1..1 across the stroke (0 on its spine)
    across: F32
    #: uniform 0..1, one value per stroke
    ident: F32
    #: 1 where a stroke covers the pixel, 0 where none reaches it (the ground shows)
    cover: F32


def _hash(iy: np.ndarray, ix: np.ndarray, salt: int) -> F32:
    """Uniform 0..1 per integer grid point, independent of the grid's extent (stable as it grows)."""
    v = (iy.astype(np.uint64) * np.uint64(73856093)) ^ (ix.astype(np.uint64) * np.uint64(19349663))
    v = (v ^ np.uint64(salt & 0xFFFFFFFF)) * np.uint64(0x9E3779B97F4A7C15)
    v ^= v >> np.uint64(29)
    v *= np.uint64(0xBF58476D1CE4E5B9)
    v ^= v >> np.uint64(32)
    return _a((v & np.uint64(0xFFFFFF)).astype(np.float32) / np.float32(0x1000000))


def _cover(
    local: tuple[F32, F32],
    lum_p: F32,
    padded: tuple[np.ndarray, ...],
    *,
    c: int,
    r: int,
    inv_lw: tuple[np.float32, np.float32],
    inv_tol: np.float32,
    use_keep: bool,
) -> tuple[F32, np.ndarray]:
    """For each canvas pixel, the best stroke among the cells within ``r``: (score, neighbour index).

    A score >= 2 means the pixel is covered (inside the dab and close in luminance; priority breaks ties);
    below that, the least-bad stroke (closest outside) so every pixel gets a colour.
    """
    ly, lx = local
    p_ry, p_rx, p_tx, p_ty, p_lum, p_prio, p_alive = padded
    inv_l, inv_w = inv_lw
    ny, nx = lum_p.shape[2:]
    best = np.full((c, c, ny, nx), -np.inf, np.float32)
    which = np.zeros((c, c, ny, nx), np.int16)
    two = np.float32(2.0)
    for k, (oy, ox) in enumerate((oy, ox) for oy in range(-r, r + 1) for ox in range(-r, r + 1)):
        sl = (slice(r + oy, r + oy + ny), slice(r + ox, r + ox + nx))
        dy = ly - (p_ry[sl] + np.float32(oy * c))
        dx = lx - (p_rx[sl] + np.float32(ox * c))
        stx_k, sty_k = p_tx[sl], p_ty[sl]
        a = dx * stx_k + dy * sty_k
        a *= inv_l
        a *= a
        a *= a  # a flat-ended dab: |a|^4 + b^2 < 1
        b = dy * stx_k - dx * sty_k
        b *= inv_w
        b *= b
        a += b
        cd = np.abs(lum_p - p_lum[sl])
        cd *= inv_tol
        covered = (a < 1.0) & (cd < 1.0)
        if use_keep:
            covered &= p_alive[sl]
        a += cd
        np.negative(a, out=a)
        score = np.where(covered, p_prio[sl] + two, a)
        if use_keep:
            score[:, :, ~p_alive[sl]] = -1e9
        better = score > best
        np.copyto(best, score, where=better)
        np.copyto(which, np.int16(k), where=better)
    return best, which


class Brush(NamedTuple):
    """One layer's brush: grid spacing in canvas pixels (one stroke per cell), the stroke's half-length and
    half-width in cells, and ``tolerance``: a stroke does not cover pixels whose luminance differs from its
    colour by more than this (strokes stop at edges)."""

    cell: int
    length: float
    width: float
    tolerance: float = 0.12


@dataclass(frozen=True)
class _Grid:
    """One stroke per grid cell: its centre inside the cell (``ry``, ``rx``), unit direction (``tx``,
    ``ty``), colour and luminance at the centre, priority, and whether it is placed at all (``alive``)."""

    ry: F32
    rx: F32
    tx: F32
    ty: F32
    colour: F32
    lum: F32
    prio: F32
    alive: np.ndarray


def _grid(base: F32, tx: F32, ty: F32, c: int, *, salt: int, jitter: float, keep: F32 | None) -> _Grid:
    """Place one stroke in each ``c``-pixel cell of ``base``: a jittered centre, the tangent there, the
    colour there; ``keep``: strokes only where it is > 0.5 at the centre."""
    h, w = base.shape[:2]
    iy, ix = np.mgrid[0 : -(-h // c), 0 : -(-w // c)]
    ry = (0.5 + jitter * (_hash(iy, ix, salt) - 0.5)) * c  # centre inside its cell
    rx = (0.5 + jitter * (_hash(iy, ix, salt + 1) - 0.5)) * c
    cy = np.clip(iy * c + ry, 0, h - 1).astype(np.float32)
    cx = np.clip(ix * c + rx, 0, w - 1).astype(np.float32)
    sample_y, sample_x = np.round(cy).astype(np.intp), np.round(cx).astype(np.intp)
    stx, sty = tx[sample_y, sample_x], ty[sample_y, sample_x]
    colour = _a(cv2.remap(base, cx, cy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    alive = np.ones(iy.shape, bool) if keep is None else keep[sample_y, sample_x] > 0.5
    lum = _a(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY))
    return _Grid(ry, rx, stx, sty, colour, lum, _hash(iy, ix, salt + 2), alive)


def paint(
    base: F32,
    tx: F32,
    ty: F32,
    brush: Brush,
    *,
    seed: int,
    kind: str,
    jitter: float = 0.8,
    keep: F32 | None = None,
) -> StrokeMap:
    """Strokes of ``brush`` over ``base`` (RGB float, canvas size) oriented along the unit tangent field
    (``tx``, ``ty``): ``keep``: per pixel 0/1, strokes are only placed in cells whose centre is kept
    (Hertzmann's refinement layers)."""
    h, w = base.shape[:2]
    c, length, width, tolerance = int(brush.cell), brush.length, brush.width, brush.tolerance
    ny, nx = -(-h // c), -(-w // c)
    big_h, big_w = ny * c, nx * c
    pad = ((0, big_h - h), (0, big_w - w))
    lum = _a(cv2.cvtColor(base, cv2.COLOR_RGB2GRAY))
    lum_p = np.ascontiguousarray(np.pad(lum, pad, mode="edge").reshape(ny, c, nx, c).transpose(1, 3, 0, 2))
    salt = int(np.random.default_rng(seed_sequence(seed, kind)).integers(2**31))
    g = _grid(base, tx, ty, c, salt=salt, jitter=jitter, keep=keep)
    r = int(np.ceil(max(length, width) + 0.5 * jitter))

    def padded(a: np.ndarray, fill: float) -> np.ndarray:
        return np.pad(a, r, mode="constant", constant_values=fill)

    p_ry, p_rx, p_tx, p_ty = padded(g.ry, 0.0), padded(g.rx, 0.0), padded(g.tx, 1.0), padded(g.ty, 0.0)
    p_lum, p_prio, p_alive = padded(g.lum, 0.0), padded(g.prio, 0.0), padded(g.alive, False)
    # canvas pixels as (row in cell, column in cell, cell row, cell column): long contiguous inner loops
    ly = np.arange(c, dtype=np.float32).reshape(c, 1, 1, 1) + np.float32(0.5)
    lx = np.arange(c, dtype=np.float32).reshape(1, c, 1, 1) + np.float32(0.5)
    inv_l, inv_w = np.float32(1.0 / (length * c)), np.float32(1.0 / (width * c))
    best, which = _cover(
        (ly, lx), lum_p, (p_ry, p_rx, p_tx, p_ty, p_lum, p_prio, p_alive), c=c, r=r,
        inv_lw=(inv_l, inv_w), inv_tol=np.float32(1.0 / max(1e-3, tolerance)), use_keep=keep is not None,
    )  # fmt: skip
    side = 2 * r + 1
    wy, wx = which // side - r, which % side - r
    cell_y, cell_x = np.arange(ny).reshape(ny, 1), np.arange(nx).reshape(1, nx)
    gy, gx = np.clip(cell_y + wy, 0, ny - 1), np.clip(cell_x + wx, 0, nx - 1)
    dy = ly - (g.ry[gy, gx] + (gy - cell_y) * c)
    dx = lx - (g.rx[gy, gx] + (gx - cell_x) * c)
    wtx, wty = g.tx[gy, gx], g.ty[gy, gx]

    def crop(a: np.ndarray) -> F32:
        order = (2, 0, 3, 1, *range(4, a.ndim))
        return _a(np.ascontiguousarray(a.transpose(order)).reshape(big_h, big_w, *a.shape[4:])[:h, :w])

    return StrokeMap(
        colour=crop(g.colour[gy, gx]),
        along=crop((dx * wtx + dy * wty) * inv_l),
        across=crop((dy * wtx - dx * wty) * inv_w),
        ident=crop(g.prio[gy, gx]),
        cover=crop((best >= 2.0).astype(np.float32)),
    )


def skin(image: U8) -> F32:
    """0..1 where ``image`` has skin tones (a YCrCb box, softened): where a painter uses a finer brush."""
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    mask = cv2.inRange(ycc, (40, 138, 80), (245, 172, 125))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return _a(cv2.GaussianBlur(mask.astype(np.float32) * np.float32(1.0 / 255.0), (0, 0), 2.0))


def tangents(lum: F32, sigma: float, *, default: float, weak: float = 0.3) -> tuple[F32, F32]:
    """Unit stroke directions: the edge tangent flow of ``lum`` where the image has a clear orientation,
    turning to ``default`` degrees (y down) where it has none (flat sky, skin), as a painter's hand does.

    Orientations are averaged as doubled angles, so a tangent and its opposite count as the same.
    """
    from restyle.engines.classic.flow import structure_flow

    flow = structure_flow(lum, sigma)
    c2 = flow.tx * flow.tx - flow.ty * flow.ty
    s2 = np.float32(2.0) * flow.tx * flow.ty
    wgt = np.clip(flow.anisotropy / np.float32(weak), 0.0, 1.0)
    d = np.deg2rad(2.0 * default)
    c2 = c2 * wgt + np.float32(np.cos(d)) * (np.float32(1.0) - wgt)
    s2 = s2 * wgt + np.float32(np.sin(d)) * (np.float32(1.0) - wgt)
    angle = np.float32(0.5) * np.arctan2(s2, c2)
    return _a(np.cos(angle)), _a(np.sin(angle))


def _miss(m: StrokeMap, lum: F32, sigma: float) -> F32:
    """How far the strokes' luminance is from the image's (``lum``), smoothed over ``sigma``."""
    err = np.abs(_a(cv2.cvtColor(m.colour, cv2.COLOR_RGB2GRAY)) - lum)
    return _a(cv2.GaussianBlur(err, (0, 0), sigma))


def _over(below: StrokeMap | None, m: StrokeMap, base: F32) -> StrokeMap:
    """Layer ``m`` on top of the canvas so far (``below``; None: ``base``, where ``m`` covers nothing)."""
    if below is None:
        cover = cv2.merge([m.cover] * 3)
        colour = _a(m.colour * cover + base * (np.float32(1.0) - cover))
        return StrokeMap(colour=colour, along=m.along, across=m.across, ident=m.ident, cover=m.cover)
    on = m.cover > 0.5
    return StrokeMap(
        colour=_a(np.where(on[..., None], m.colour, below.colour)),
        along=_a(np.where(on, m.along, below.along)),
        across=_a(np.where(on, m.across, below.across)),
        ident=_a(np.where(on, m.ident, below.ident)),
        cover=_a(np.maximum(below.cover, m.cover)),
    )


def _underpainting(m: StrokeMap, base: F32, lum: F32, detail: float, fine: F32 | None) -> StrokeMap:
    """Where even the finest strokes miss by more than ``detail`` (eyes, lettering), ``base`` shows through;
    ``fine`` (0..1) lowers that threshold."""
    err = _miss(m, lum, 1.5)
    if fine is not None:
        err = err * (np.float32(1.0) + np.float32(2.0) * fine)
    t = np.clip((err - np.float32(detail)) * np.float32(1.0 / max(1e-3, detail)), 0.0, 1.0)
    colour = _a(m.colour + (base - m.colour) * t[..., None])
    return StrokeMap(
        colour=colour, along=m.along, across=m.across, ident=m.ident, cover=_a(m.cover * (1.0 - t))
    )


def layered(
    base: F32,
    tx: F32,
    ty: F32,
    layers: list[tuple[int, float, float, float]],
    *,
    seed: int,
    kind: str,
    threshold: float,
    jitter: float = 0.8,
    detail: float = 0.0,
    fine: F32 | None = None,
) -> StrokeMap:
    """Hertzmann's coarse-to-fine painting: ``layers`` of (cell, half-length, half-width, tolerance), each
    after the first painted only where the canvas so far differs from ``base`` by more than ``threshold``
    (luminance, smoothed), and on top of it. Pixels no stroke covers keep ``base`` (the underpainting), and
    so do pixels where the strokes still miss by more than ``detail`` (0: never). ``fine`` (0..1 per pixel,
    e.g. skin) gets the finer layers everywhere and a lower ``detail`` threshold: faces keep their features."""
    out: StrokeMap | None = None
    lum = _a(cv2.cvtColor(base, cv2.COLOR_RGB2GRAY))
    for i, layer in enumerate(layers):
        brush = Brush(*layer)
        keep = None
        if out is not None:
            keep = _a(_miss(out, lum, max(1.0, brush.cell / 2)) > np.float32(threshold))
            if fine is not None:
                keep = np.maximum(keep, _a(fine > 0.5))
        m = paint(base, tx, ty, brush, seed=seed, kind=f"{kind}{i}", jitter=jitter, keep=keep)
        out = _over(out, m, base)
    assert out is not None
    return _underpainting(out, base, lum, detail, fine) if detail > 0 else out


def jittered(m: StrokeMap, value: float, hue: float) -> F32:
    """The strokes' colours with a random lightness (``value``) and colour (``hue``) offset per stroke:
    each stroke reads as one load of paint, as broken colour when ``hue`` is large."""
    i = m.ident
    v = (i - np.float32(0.5)) * np.float32(2.0 * value)
    r = (np.modf(i * np.float32(7.31))[0] - np.float32(0.5)) * np.float32(2.0 * hue)
    b = (np.modf(i * np.float32(13.7))[0] - np.float32(0.5)) * np.float32(2.0 * hue)
    offset = cv2.merge([_a(v + r), _a(v - np.float32(0.5) * (r + b)), _a(v + b)])
    return _a(np.clip(m.colour + offset * m.cover[..., None], 0.0, 1.0))


def face_zone(image: U8, shape: tuple[int, ...]) -> F32:
    """0..1 at ``shape``: soft ellipses over the faces of ``image`` (the engine's shared detection,
    ``face.face_boxes``), where a portrait painter works with the finest brush."""
    h, w = image.shape[:2]
    scale = min(1.0, FACE_SIDE / max(h, w))
    zone = np.zeros((max(1, round(h * scale)), max(1, round(w * scale))), np.float32)
    for x, y, bw, bh in face_boxes(image):
        x, y, bw, bh = x * scale, y * scale, bw * scale, bh * scale
        centre = (int(x + bw // 2), int(y + bh * 0.55))
        axes = (max(1, int(bw * 0.62)), max(1, int(bh * 0.78)))
        cv2.ellipse(zone, centre, axes, 0.0, 0.0, 360.0, 1.0, -1)
    zone = _a(cv2.GaussianBlur(zone, (0, 0), 3.0))
    return _a(np.clip(_a(cv2.resize(zone, (int(shape[1]), int(shape[0])))), 0.0, 1.0))
