"""Sky detection and a painted anime sky with procedural clouds (the "Shinkai" look of outdoor anime).

``sky_mask`` finds the sky of an outdoor photo on a small copy: bright, smooth (no texture), blue or
overcast-white pixels in pieces that touch the top border. ``painted_sky`` renders a deep-blue-to-pale
gradient with cel-shaded cumulus clouds (two tones, lit from above, crisp edges) from seeded noise, cached
per size and seed. Indoor photos, portraits against walls and close-ups have no such piece: the mask is
empty and nothing changes.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8, Colour
from restyle.engines.classic.textures import _fractal, _texture
from restyle.engines.classic.toolkit import _a, _blur, _fit, _mix, _to

#: the mask is computed at this long side
SKY_SIDE = 160


def sky_mask(image: U8, shape: tuple[int, ...], full: U8 | None = None) -> F32 | None:
    """0..1 sky coverage at ``shape`` (soft border), or None when the photo has no sky. ``full``: the image
    at ``shape``, if the caller has it (sharper borders)."""
    small = _fit(image, SKY_SIDE)
    h, w = small.shape[:2]
    f = small.astype(np.float32) * np.float32(1.0 / 255.0)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    s = (v - np.minimum(np.minimum(r, g), b)) / (v + 1e-6)
    gray = _a(_blur(_a(0.3 * r + 0.59 * g + 0.11 * b), 1.0))
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    texture = _a(_blur(_a(np.sqrt(gx * gx + gy * gy)), 1.5))
    blue = (b > r + 0.04) & (b >= g - 0.02) & (v > 0.35)
    overcast = (s < 0.16) & (v > 0.62)
    candidate = np.asarray((blue | overcast) & (texture < 0.022), dtype=np.uint8)
    candidate = np.asarray(cv2.morphologyEx(candidate, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
    if n <= 1:
        return None
    top = np.unique(labels[0, :])
    keep = np.zeros(n, bool)
    for lab in top[top > 0]:
        x, y, bw, bh, area = stats[lab]
        # a real sky is a sizeable piece along the top, wider than a patch of wall or hair
        if area >= 0.04 * h * w and bw >= 0.3 * w:
            keep[lab] = True
    if not keep.any():
        return None
    mask = np.asarray(keep[labels], dtype=np.uint8)
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), np.uint8)
    # refine at the output size: the coarse mask, widened a little, gated by closeness to the sky colour
    sky_colour = f[mask > 0].mean(axis=0)
    reach = _a(_to(_a(cv2.dilate(mask, np.ones((5, 5), np.uint8))), shape, cv2.INTER_LINEAR))
    big = _a(_to(f, shape, cv2.INTER_LINEAR)) if full is None else _a(full) * np.float32(1.0 / 255.0)
    dist = np.sqrt(((big - sky_colour.astype(np.float32)) ** 2).sum(axis=2))
    near = _a(np.clip((np.float32(0.2) - dist) * np.float32(12.0), 0.0, 1.0))
    core = _a(_to(_a(cv2.erode(mask, np.ones((3, 3), np.uint8))), shape, cv2.INTER_LINEAR))
    soft = np.maximum(_a(reach * near), core)
    return _a(cv2.GaussianBlur(soft, (0, 0), 0.8))


def _smoothstep(lo: float, hi: float, x: F32) -> F32:
    t = np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return _a(t * t * (3.0 - 2.0 * t))


def painted_sky(
    mask: F32,
    seed: int,
    *,
    top: Colour,
    horizon: Colour,
    cloud: Colour,
    cloud_shade: Colour,
    clouds: float,
) -> F32:
    """An RGB painted sky the size of ``mask``: gradient from ``top`` to ``horizon`` (at the lowest sky
    rows), cumulus clouds covering about ``clouds`` (0..1) of it, lit from above with a crisp shade tone."""
    h, w = mask.shape[:2]
    rows = np.nonzero(mask.max(axis=1) > 0.5)[0]
    bottom = float(rows.max() + 1) if len(rows) else float(h)
    t = np.clip(np.arange(h, dtype=np.float32) / np.float32(max(1.0, bottom)), 0.0, 1.0) ** np.float32(0.9)
    ramp = np.repeat(_a(t)[:, None], w, axis=1)
    sky = _mix(top, horizon, ramp)
    # clouds on a reduced grid (they are smooth), thresholded at the output size for crisp edges
    sh, sw = max(8, h // 4), max(8, w // 4)

    def make(rng: np.random.Generator) -> list[F32]:
        # stretched sideways: wide cloud banks; billowy edges from the finer octaves
        base = _fractal(rng, sh, max(8, sw // 2), sw * 0.09, 4)
        return [_a(cv2.resize(base, (sw, sh), interpolation=cv2.INTER_CUBIC))]

    (noise,) = _texture("sky-clouds", sh, sw, seed, make)
    n = _a(_to(noise, mask.shape, cv2.INTER_CUBIC))
    # more cloud towards the horizon, open sky up top: the noise (unit deviation) is cut at a threshold
    # that falls towards the horizon; ``clouds`` moves it for the whole sky
    cut = _a(np.float32(1.25 - (clouds - 0.5)) - np.float32(0.75) * ramp)
    density = _a(n - cut)
    alpha = _smoothstep(0.0, 0.08, density)
    # light from above: where the noise falls towards the top the cloud faces the sun
    lit = _a(density - np.roll(density, max(1, h // 60), axis=0))
    shade = _smoothstep(-0.02, 0.02, -lit) * _smoothstep(0.05, 0.3, density)
    body = _mix(cloud, cloud_shade, _a(shade * np.float32(0.85)))
    return _mix(sky, body, alpha)
