"""Hard materials: 120 wood carving, 126 jade carving, 127 blue-and-white porcelain.

Wood and jade render the subject *as a relief carved into the material*: on a reduced copy, a height
field from the photo (``relief.height_field``: smoothed luminance, a dome per flat-colour region, faces
kept detailed, built by ``_carving``) is lit (``relief``: Lambert or wrapped diffuse, Blinn highlight,
rim, ambient occlusion, a studio environment) over a generated body colour (pine-to-walnut grain, green
stone with inclusions). Porcelain paints the subject in cobalt under a glaze on a curved vessel. The
result is upsampled and full-resolution surface texture is added (grain, veins, crackle). The soft,
hand-modelled materials (clay, felt) are in ``modelled``.

All are registered with ``native_strength``: Strength sets relief depth and material coverage, never a
pixel blend with the photo, and the distance from the photo grows monotonically with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, level, param, recipe
from restyle.engines.classic.relief import (
    diffuse,
    face_detail,
    face_mask,
    height_field,
    matcap,
    normals,
    occlusion,
    rim,
    specular,
)
from restyle.engines.classic.textures import (
    _fractal,
    _noise,
    _streaks,
    _texture,
)
from restyle.engines.classic.toolkit import (
    _a,
    _blur,
    _clip,
    _dog_lines,
    _edge_preserving,
    _f,
    _fit,
    _gradient_map,
    _gray,
    _hsv,
    _mix,
    _plus,
    _regions,
    _times,
    _to,
    _u8,
    _unit,
)


@dataclass(frozen=True)
class Carving:
    """The relief a carver cuts, on a reduced copy of the photo (``work``, feature unit ``wu``)."""

    work: U8
    wu: float
    faces: F32  # soft face mask at the size of ``work``
    smooth: U8  # edge-preserving smoothed ``work``: the forms the carving follows
    flat: U8  # flat-colour regions of ``smooth``: one rounded form each
    height: F32


def _smoothed(work: U8, side: int, sigma_s: float, sigma_r: float) -> U8:
    """``work`` smoothed edge-preservingly on a copy of ``side`` pixels, upsampled back (cubic)."""
    small = _edge_preserving(_fit(work, side), sigma_s, sigma_r)
    return np.asarray(_to(small, work.shape, cv2.INTER_CUBIC), np.uint8)


def _carving(
    image: U8,
    req: StyleRequest,
    *,
    side: int,
    sigma_r: float,
    colours: int,
    dome: float,
    shape: tuple[float, float],
    fit_faces: bool = False,
) -> Carving:
    """The photo as a relief on a ``side``-pixel copy: smoothed luminance as the large forms, a ``dome``
    per flat-colour region (``colours`` of them), faces kept detailed (``relief.height_field``).
    ``shape``: the domes' radius and their softening, in feature units; ``fit_faces``: see ``face_mask``."""
    work = _fit(image, side)
    wu = _unit(work)
    faces = face_mask(image, work.shape, fit=fit_faces)
    smooth = _smoothed(work, 300, 25.0, sigma_r)
    req.checkpoint()
    flat = _regions(smooth, colours, req.seed, (11, 7))
    radius, soften = shape
    height = height_field(
        smooth,
        flat=flat,
        base=1.0,
        dome=dome,
        dome_radius=radius * wu,
        detail=0.15,
        smooth=4.0 * wu,
        faces=faces,
        soften=soften * wu,
    )
    return Carving(work, wu, faces, smooth, flat, height)


@recipe("woodcarving", native_strength=True)
def woodcarving(image: U8, req: StyleRequest) -> U8:
    """Relief carved in a wooden panel: each part of the subject a rounded raised form (smoothed luminance,
    soft terraces and domes), the background gouged in scallops that run parallel to the outlines, continuous
    pine-to-walnut grain through the whole panel, raking light with dark recesses and a faint oiled sheen.
    Strength: relief depth, how much of the photo's tone stays in the wood, gouge depth. Params: levels."""
    h, w = image.shape[:2]
    u = _unit(image)
    colours = int(param(req, "levels", 5)) + 2
    c = _carving(image, req, side=400, sigma_r=0.35, colours=colours, dome=0.35, shape=(12.0, 1.2))
    wu = c.wu
    height = _gouged(c, req)
    n = normals(height, level(req, 10.0, 30.0) * wu)
    light = _a(0.3 + 0.7 * diffuse(n, azimuth=130.0, elevation=38.0))
    light = _a(light * occlusion(height, 8.0 * wu, level(req, 1.0, 2.2)) * (0.75 + 0.4 * _clip(height)))
    sheen = _a(specular(n, power=24.0, azimuth=130.0, elevation=38.0) * np.float32(0.12))
    tone_keep = _a(_f(_gray(c.smooth)) * np.float32(level(req, 0.55, 0.25)))
    req.checkpoint()
    light = _a(_to(light, image.shape, cv2.INTER_CUBIC))
    big_faces = _a(_to(c.faces, image.shape))
    light = _a(light + (np.float32(0.85) - light) * big_faces * np.float32(0.45))  # faces: gentler relief,
    light = _a(light * face_detail(image, big_faces, 8.0 * u))  # with the eyes and mouth carved in
    sheen = _a(_to(sheen, image.shape, cv2.INTER_CUBIC))
    tone_keep = _a(_to(tone_keep, image.shape, cv2.INTER_LINEAR))
    grain = _wood_grain(h, w, u, req.seed)
    grain = _a(grain - (grain - np.float32(0.55)) * big_faces * np.float32(0.85))  # smooth-sanded faces
    tone = _clip(_a(grain * np.float32(1.0 - level(req, 0.55, 0.25)) + tone_keep))
    tone = _a(
        tone + (_f(_gray(image)) * np.float32(0.8) + np.float32(0.15) - tone) * big_faces * np.float32(0.5)
    )
    stops = [(0.0, (70, 38, 18)), (0.4, (132, 82, 42)), (0.7, (186, 132, 78)), (1.0, (226, 182, 124))]
    wood = _f(_gradient_map(_u8(tone), stops))
    return _u8(_plus(_times(wood, light), sheen))


def _gouged(c: Carving, req: StyleRequest) -> F32:
    """The carving's height with the background gouged away in scallops: rows of cuts parallel to the
    outlines (contours of the distance to the region borders), broken into chips, deepest where the relief
    is low. Strength: gouge depth."""
    wh, ww = c.work.shape[:2]
    wu = c.wu
    grad = cv2.morphologyEx(
        cv2.cvtColor(c.flat, cv2.COLOR_RGB2GRAY), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)
    )
    dist = np.minimum(cv2.distanceTransform(np.asarray(grad == 0, np.uint8), cv2.DIST_L2, 3), 1e4)

    def make_gouges(rng: np.random.Generator) -> list[F32]:
        return [_a(_fractal(rng, wh, ww, 6 * wu, 2)), _a(_fractal(rng, wh, ww, 30 * wu, 2))]

    jitter, patches = _texture(f"gouge{wu:.2f}", wh, ww, req.seed, make_gouges)
    phase = dist * np.float32(2 * np.pi / (5.0 * wu)) + jitter * np.float32(1.2)
    chips = _a(np.abs(np.sin(phase)) ** 0.6 * (0.6 + 0.4 * np.clip(patches + 0.5, 0.0, 1.0)))
    low = _clip(1.0 - 2.0 * _a(_blur(c.height, 6.0 * wu)))  # gouged most where the relief is low
    return _a(c.height - chips * (low * 0.8 + 0.1) * np.float32(level(req, 0.03, 0.08)))


def _wood_grain(h: int, w: int, u: float, seed: int) -> F32:
    """Pine grain (about 0.55): wide light earlywood between thin dark latewood rings of uneven width,
    warped, with pores streaked along the grain (cached per size and seed)."""

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        warp = _fractal(rng, h, w, 160 * u, 3) * np.float32(9 * u) + _noise(rng, h, w, 40 * u) * np.float32(
            2 * u
        )
        spacing = _noise(rng, h, w, 70 * u) * np.float32(2.5)  # growth rings of uneven width
        rings = np.sin((y * 0.98 + 0.08 * x + warp) * np.float32(2 * np.pi / (11 * u)) + spacing)
        late = np.clip(rings, -1.0, 1.0) ** 3  # thin dark latewood lines between wide light earlywood
        pores = _streaks(rng, h, w, cell=1.0, length=25 * u, angle=-7.0)
        return [_a(0.55 + 0.22 * late + 0.07 * pores)]

    return _texture(f"wood{u:.2f}", h, w, seed, make)[0]


@recipe("jade", native_strength=True)
def jade(image: U8, req: StyleRequest) -> U8:
    """Carved green jade: the subject as a polished, rounded jade carving. Light enters the stone and glows
    out of the thin raised parts (wrapped diffuse blurred inside the stone, subsurface), the body colour
    deepens where it is thick and in the recesses, cloudy white inclusions and veins float inside, and the
    polish gives sharp highlights, a studio-window reflection and bright rims.
    Strength: carving depth, how much of the photo's tone stays in the stone, polish."""
    h, w = image.shape[:2]
    u = _unit(image)
    c = _carving(image, req, side=384, sigma_r=0.4, colours=7, dome=0.3, shape=(14.0, 2.0), fit_faces=True)
    wu, faces, height = c.wu, c.faces, c.height
    n = normals(height, level(req, 8.0, 22.0) * wu)
    lit = diffuse(n, azimuth=120.0, elevation=50.0, wrap=0.6)
    glow = _a(_blur(lit * _clip(height + 0.2), 5.0 * wu))  # light scattered inside the stone
    keep = np.float32(level(req, 0.5, 0.2))
    body = _a(glow * np.float32(0.5) + _f(_gray(c.smooth)) * keep)
    body = _clip(_a(body * occlusion(height, 6.0 * wu, 2.0)))
    polish = level(req, 0.5, 0.9)
    spec = _a(specular(n, power=70.0, azimuth=120.0, elevation=50.0) * np.float32(polish))
    env = _a(matcap(n, [(0.0, 0.0), (0.55, 0.0), (0.8, 0.12), (1.0, 0.35)]) * np.float32(polish))
    edge = _a(rim(n, 2.0) * np.float32(0.35))
    req.checkpoint()
    big_faces = _a(_to(faces, image.shape))
    body = _a(_to(body, image.shape, cv2.INTER_CUBIC))
    # faces: carved at full detail (the photo's tone) and matte, no veins: a face a detector still finds
    body = _a(body + (_f(_gray(image)) * np.float32(0.9) - body) * big_faces)
    shine = _a(_to(_a((spec + env + edge) * (1.0 - faces)), image.shape, cv2.INTER_CUBIC))
    cloud, veins = _jade_stone(h, w, u, req.seed)
    tone = _clip(_a(body + cloud * np.float32(0.05)))
    stops = [
        (0.0, (4, 32, 16)),
        (0.3, (14, 90, 48)),
        (0.6, (48, 150, 86)),
        (0.85, (128, 204, 140)),
        (1.0, (210, 244, 208)),
    ]
    f = _f(_gradient_map(_u8(tone), stops))
    milk = _a((_clip(cloud * 0.5 - 0.3) * 0.3 + veins * 0.22) * (1.0 - big_faces))  # inclusions, veins
    f = _mix(f, (0.82, 0.93, 0.84), milk)
    return _u8(_plus(f, shine))


def _jade_stone(h: int, w: int, u: float, seed: int) -> tuple[F32, F32]:
    """Inside the stone: soft clouds (fractal noise) and thin veins (ridges of another), cached."""

    def make(rng: np.random.Generator) -> list[F32]:
        cloud = _fractal(rng, h, w, 70 * u, 4)
        ridge = _a(_blur(_a(np.clip(1.0 - np.abs(_fractal(rng, h, w, 90 * u, 3)), 0.0, 1.0) ** 5), 1.5 * u))
        return [_a(cloud), _a(ridge)]

    cloud, veins = _texture(f"jade{u:.2f}", h, w, seed, make)
    return cloud, veins


@recipe("porcelain", native_strength=True)
def porcelain(image: U8, req: StyleRequest) -> U8:
    """Blue-and-white porcelain (qinghua): the subject painted in cobalt under a glossy bluish-white glaze on
    a curved vessel. Fine cobalt outlines, layered washes with pigment pooled at their edges and heaped dark
    specks, the cobalt softly bled into the glaze, a window reflection running down the curve, fine crackle.
    Strength: from doucai (blue outlines with soft overglaze enamels in the photo's colours, continuous
    washes) to pure blue-and-white (three wash layers, no enamel)."""
    h, w = image.shape[:2]
    u = _unit(image)
    work = _fit(image, 448)
    wu = _unit(work)
    faces = face_mask(image, work.shape)
    smooth = _smoothed(work, 320, 20.0, 0.35)
    g = _f(_gray(smooth))
    req.checkpoint()
    lo, hi = np.percentile(g[::4, ::4], [3.0, 97.0])
    g = _clip(_a((g - np.float32(lo)) / np.float32(max(0.1, hi - lo))))
    density = _clip(_a((0.8 - g) / 0.7), 0.0, 0.999)
    layers = _a(_blur(_a(np.floor(density * 3.0) / 3.0), 1.6 * wu))
    q = np.float32(level(req, 0.2, 0.9))
    wash = _a(density + (layers - density) * q * (1.0 - 0.5 * faces))
    pooled = _clip(_a(wash + np.maximum(wash - _a(_blur(wash, 3.0 * wu)), 0.0) * np.float32(1.8)))
    lines = _a(1.0 - _dog_lines(g, 0.8 * wu, threshold=0.004, gain=45.0))
    pigment = _clip(_a(pooled * np.float32(0.78) + lines * np.float32(0.9)))
    pigment = _a(_blur(pigment, 0.5 * wu))  # cobalt bleeding into the glaze
    enamel = _a(_blur(_f(_hsv(smooth, sat=1.2)), 1.5 * wu))
    req.checkpoint()
    pigment = _a(_to(pigment, image.shape, cv2.INTER_CUBIC))
    enamel = _a(_to(enamel, image.shape, cv2.INTER_LINEAR))

    def make(rng: np.random.Generator) -> list[F32]:
        crackle = np.clip(1.0 - np.abs(_fractal(rng, h, w, 45 * u, 3)), 0.0, 1.0) ** 28
        specks = np.clip(_fractal(rng, h, w, 2.5 * u, 2) - 1.8, 0.0, 1.0)
        granules = _fractal(rng, h, w, 3 * u, 2)
        x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
        curve = np.repeat(_a(1.0 - 0.22 * x**4), h, axis=0)  # the vessel turns away at the sides
        band = np.exp(-(((x + 0.45) / 0.05) ** 2)) * 0.45 + np.exp(-(((x - 0.62) / 0.1) ** 2)) * 0.15
        window = np.repeat(_a(band), h, 0)
        return [_a(crackle), _a(specks), _a(granules), curve, window]

    crackle, specks, granules, curve, window = _texture(f"porcelain{u:.2f}", h, w, req.seed, make)
    pigment = _clip(_a(pigment * (1.0 + 0.06 * granules)))
    glaze = (0.95, 0.965, 0.985)
    ground = _mix(glaze, _a(enamel * 0.55 + 0.42), level(req, 0.55, 0.0))
    stops = [(0.0, (242, 246, 251)), (0.3, (150, 172, 226)), (0.65, (52, 82, 178)), (1.0, (12, 26, 104))]
    cobalt = _f(_gradient_map(_u8(pigment), stops))
    f = _mix(ground, cobalt, _clip(_a(pigment * 3.0)))
    f = _mix(f, (0.03, 0.06, 0.26), _a(specks * pigment * 0.8))  # heaped cobalt
    f = _times(f, _a(curve * (1.0 - 0.12 * crackle)))
    return _u8(_plus(f, _a(window * np.float32(level(req, 0.25, 0.45)))))
