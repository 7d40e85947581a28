"""Soft materials modelled by hand: 121 clay (claymation), 128 needle felt, 135 Asian (kawaii) felt.

Each renders the subject *as an object modelled in the material*: on a reduced copy the photo is cut into
flat colour regions (k-means), each region becomes a rounded lump or pad (``relief.height_field``: domes
over a smoothed-luminance relief, faces kept detailed; ``_lumps``), lit by a soft studio light with cast
shadows between the lumps over the clay or wool colours; faces are made of the material too, their
features set in (``_modelled_face``). The result is upsampled and full-resolution surface texture is added
(fingerprints and tool dents, fibres and fuzz). The hard, carved materials (wood, jade, porcelain) are in
``carved``.

Strength (``native_strength``, as for the carved materials) moves the colours from the photo's to the
material's palette and raises the lumps and the surface texture; the output never is a pixel blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, Colour, level, param, recipe
from restyle.engines.classic.face import cel_skin, face_maps
from restyle.engines.classic.relief import (
    cast_shadow,
    diffuse,
    face_mask,
    height_field,
    normals,
    occlusion,
    rim,
    specular,
)
from restyle.engines.classic.textures import (
    _fractal,
    _noise,
    _texture,
)
from restyle.engines.classic.toolkit import (
    _a,
    _blur,
    _clip,
    _curve,
    _edge_preserving,
    _f,
    _fit,
    _hsv,
    _mix,
    _plus,
    _quantize,
    _regions,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


@dataclass(frozen=True)
class Modelling:
    """How a soft material is modelled: the photo (at ``SIDE``) smoothed edge-preservingly (``sigma_s``,
    ``sigma_r``), cut into ``colours`` flat regions (catalogue param ``colors`` overrides), each region
    rounded into a lump: a relief of smoothed luminance (``base``) with domes (``dome`` at Strength 0 and
    1, ``radius`` and ``soften`` in feature units) and a little fine detail (``detail``)."""

    sigma_s: float
    sigma_r: float
    colours: int
    base: float
    dome: tuple[float, float]
    radius: float
    detail: float
    soften: float


#: plasticine: big round lumps, strongly domed
CLAY = Modelling(40.0, 0.45, 12, base=0.8, dome=(0.3, 0.8), radius=36.0, detail=0.1, soften=3.0)
#: wool pads: flatter, smaller puffs
FELT = Modelling(45.0, 0.5, 9, base=0.4, dome=(0.3, 0.9), radius=24.0, detail=0.08, soften=1.5)
#: long side of the copy the lumps are modelled and lit on (the surface texture is added at full size)
SIDE = 320


@dataclass(frozen=True)
class Lumps:
    """The photo modelled in a soft material, on a reduced copy (``work``, feature unit ``wu``)."""

    work: U8
    wu: float
    faces: F32  # soft face mask at the size of ``work``
    smooth: U8  # edge-preserving smoothed ``work``: the colours before the material's palette
    flat: U8  # flat-colour regions of ``smooth``: one lump each
    height: F32


def _lumps(image: U8, req: StyleRequest, how: Modelling) -> Lumps:
    """``image`` modelled as ``how`` says (see ``Modelling``); Strength sets the domes' height."""
    work = _fit(image, SIDE)
    wu = _unit(work)
    faces = face_mask(image, work.shape)
    smooth = _edge_preserving(work, how.sigma_s, how.sigma_r)
    req.checkpoint()
    flat = _regions(smooth, int(param(req, "colors", how.colours)), req.seed, (7, 5))
    height = height_field(
        work,
        flat=flat,
        base=how.base,
        dome=level(req, *how.dome),
        dome_radius=how.radius * wu,
        detail=how.detail,
        smooth=3.0 * wu,
        faces=faces,
        soften=how.soften * wu,
    )
    return Lumps(work, wu, faces, smooth, flat, height)


@recipe("clay", native_strength=True)
def clay(image: U8, req: StyleRequest) -> U8:
    """Claymation: the subject modelled in plasticine. Flat saturated clay colours (k-means), each region a
    rounded lump (domes over a smoothed-luminance relief), lit by a soft key light with a waxy sheen and
    dark creases between lumps; fine thumbprints and tool dents in the surface. Faces keep their features.
    Strength: clay coverage (photo colours -> plasticine palette), lump depth, smoothing. Params: colors."""
    h, w = image.shape[:2]
    m = _lumps(image, req, CLAY)
    wu, faces, height = m.wu, m.faces, m.height
    vivid = _hsv(m.flat, sat=1.45, value=_curve([(0, 0.14), (0.5, 0.6), (1, 0.96)]))
    albedo = _a(_blur(_mix(_f(m.smooth), _f(vivid), level(req, 0.3, 0.95)), 0.7 * wu))
    albedo = _modelled_face(image, m.work, albedo, req, tone=(0.98, 0.72, 0.58), ink=(0.16, 0.08, 0.06))
    req.checkpoint()
    n = normals(height, level(req, 6.0, 16.0) * wu)
    light = _a(0.4 + 0.6 * diffuse(n, azimuth=125.0, elevation=50.0, wrap=0.3))
    light = _a(light * occlusion(height, 6.0 * wu, level(req, 0.5, 1.6)))
    # the lumps stand on each other: each throws a soft studio shadow on its lower neighbour
    shadow = cast_shadow(height, shift=5.0 * wu, sigma=3.0 * wu, gain=level(req, 0.8, 2.2), azimuth=125.0)
    near_face = _clip(_a(_blur(faces, 8.0 * wu)) * np.float32(2.5))  # faces and their outline stay lit
    light = _a(light * (0.45 + 0.55 * np.maximum(shadow, near_face)))
    sheen = _a(specular(n, power=22.0, azimuth=125.0, elevation=50.0) * np.float32(level(req, 0.07, 0.14)))
    small = _plus(_times(albedo, light), sheen)
    out = _a(_to(small, image.shape, cv2.INTER_CUBIC))
    req.checkpoint()
    u = _unit(image)

    def make(rng: np.random.Generator) -> list[F32]:
        swirl = _fractal(rng, h, w, 22 * u, 2)
        ridges = np.sin(swirl * np.float32(9.0))  # contour lines of smooth noise: whorls like fingerprints
        where = np.clip(_fractal(rng, h, w, 70 * u, 2) - 0.6, 0.0, 1.0)
        prints = _a(_blur(_a(ridges * where), 0.6 * u))
        dents = _fractal(rng, h, w, 5 * u, 2)
        surface = _a(prints * np.float32(0.8) + dents * np.float32(0.25))
        slope_x = cv2.Sobel(surface, cv2.CV_32F, 1, 0, ksize=3)
        slope_y = cv2.Sobel(surface, cv2.CV_32F, 0, 1, ksize=3)
        return [_a((0.57 * slope_x + 0.82 * slope_y) * np.float32(0.25))]  # lit from the key light

    (prints,) = _texture(f"clayprints{u:.2f}", h, w, req.seed, make)
    out = _times(out, _a(1.0 + prints * np.float32(level(req, 0.03, 0.09))))
    return _u8(_tint(out, (1.03, 1.0, 0.95)))


def _modelled_face(image: U8, work: U8, albedo: F32, req: StyleRequest, *, tone: Colour, ink: Colour) -> F32:
    """Faces made of the material too: one flat skin colour per face (the lighting models it) with the eyes,
    brows and mouth set in as dark beads and grooves (``face.cel_skin`` with no shadow tone)."""
    maps = face_maps(image, work.shape)
    if maps is None:
        return albedo
    amount = level(req, 0.6, 1.0)
    return cel_skin(
        albedo,
        _f(work),
        maps,
        tone=tone,
        shade=(1.0, 1.0, 1.0),
        ink=ink,
        amount=amount,
        wrinkles=0.1,
    )


def _fibres(h: int, w: int, seed: int, u: float, *, length: float, density: float) -> tuple[F32, F32]:
    """Wool: thousands of short curved hairs drawn anti-aliased (light ones and dark ones, -1..1 around 0),
    and a displacement field (unit pixels) that pushes colour along them across region borders (fuzz)."""

    def make(rng: np.random.Generator) -> list[F32]:
        canvas = np.zeros((h, w), np.float32)
        count = int(density * h * w / (length * u) ** 2 * 4)
        for value in (1.0, -1.0):
            x0 = rng.uniform(0, w, count)
            y0 = rng.uniform(0, h, count)
            angle = rng.uniform(0, np.pi, count)
            bend = rng.normal(0.0, 0.5, count)
            seg = length * u * rng.uniform(0.5, 1.3, count) / 3.0
            pts = [np.stack([x0, y0], 1)]
            for i in range(3):
                a = angle + bend * i
                pts.append(pts[-1] + np.stack([np.cos(a) * seg, np.sin(a) * seg], 1))
            lines = np.round(np.stack(pts, 1) * 16).astype(np.int32)
            layer = np.zeros((h, w), np.float32)
            cv2.polylines(layer, list(lines), False, 1.0, 1, cv2.LINE_AA, 4)
            canvas += np.float32(value) * layer
        canvas = _a(np.clip(canvas, -1.0, 1.0))
        dx = _noise(rng, h, w, 1.5 * u)
        dy = _noise(rng, h, w, 1.5 * u)
        return [canvas, _a(dx), _a(dy)]

    hair, dx, dy = _texture(f"fibres{u:.2f}/{length:.1f}/{density:.2f}", h, w, seed, make)
    return hair, _a(cv2.merge([dx, dy]))


@dataclass(frozen=True)
class Wool:
    """A felt's wool: the flat colours' saturation (``sat``) and value curve (``value``), the dyes they are
    pulled towards (``dyes``, 65 % of the way, if any), a pull towards cream (``pastel``), a final colour
    cast (``tint``) and the fibres' length (``fibre``: 1 is 9 feature units)."""

    sat: float
    value: U8
    tint: Colour
    fibre: float
    pastel: float = 0.0
    dyes: F32 | None = None


def _felt(image: U8, req: StyleRequest, wool: Wool) -> U8:
    """Needle felt: wool pads of flat colour that puff up like pillows (soft matte light, no gloss), fuzzy
    borders where fibres of one colour cross into the next, a halo of loose hairs, visible fibres."""
    h, w = image.shape[:2]
    u = _unit(image)
    m = _lumps(image, req, FELT)
    wu, faces, height = m.wu, m.faces, m.height
    dyed = _hsv(m.flat, sat=wool.sat, value=wool.value)
    if wool.dyes is not None:  # each wool colour pulled towards the nearest traditional dye
        dyed = _u8(_mix(_f(dyed), _f(_quantize(dyed, wool.dyes)), 0.65))
    if wool.pastel > 0:
        dyed = _u8(_mix(_f(dyed), (1.0, 0.96, 0.93), wool.pastel))
    albedo = _mix(_f(m.smooth), _f(dyed), level(req, 0.35, 0.95))
    albedo = _modelled_face(image, m.work, albedo, req, tone=(0.96, 0.7, 0.58), ink=(0.16, 0.1, 0.09))
    n = normals(height, level(req, 4.0, 10.0) * wu)
    light = _a(0.5 + 0.5 * diffuse(n, azimuth=120.0, elevation=55.0, wrap=0.5))
    light = _a(light * occlusion(height, 5.0 * wu, level(req, 0.4, 1.2)) + 0.12 * rim(n, 1.5))
    # puffy pads resting on each other: soft shadows under their lower edges
    shadow = cast_shadow(height, shift=4.0 * wu, sigma=3.0 * wu, gain=level(req, 0.6, 1.8), azimuth=120.0)
    light = _a(light * (0.5 + 0.5 * shadow))
    small = _times(albedo, light)
    req.checkpoint()
    hair, push = _fibres(h, w, req.seed, u, length=wool.fibre * 9.0, density=0.9)
    grid = _grid(h, w)
    fuzz = level(req, 0.8, 2.2) * u
    amount = np.float32(level(req, 0.08, 0.2))
    big = _a(_to(small, image.shape, cv2.INTER_CUBIC))
    if faces.any():  # faces keep their features: less fuzz and hair over them
        big_faces = _a(_to(faces, image.shape))
        open_ = _a(1.0 - 0.7 * big_faces)
        maps = _a(grid + push * cv2.merge([open_, open_]) * np.float32(fuzz))
        texture = _a(1.0 + hair * open_ * amount)
    else:
        maps = _a(cv2.scaleAdd(push, fuzz, grid))
        texture = _a(1.0 + hair * amount)
    fuzzy = _a(cv2.remap(big, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    out = _times(fuzzy, texture)
    return _u8(_tint(out, wool.tint))


def _grid(h: int, w: int) -> F32:
    """Pixel coordinates as a 2-channel map (x, y) for ``cv2.remap``, cached per size."""

    def make(_: np.random.Generator) -> list[F32]:
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return [_a(cv2.merge([gx, gy]))]

    return _texture("grid", h, w, 0, make)[0]


#: bold saturated wool in the photo's own colours
WESTERN_WOOL = Wool(1.4, _curve([(0, 0.1), (0.5, 0.55), (1, 0.95)]), tint=(1.0, 1.0, 1.0), fibre=1.0)


@recipe("felt", native_strength=True)
def felt(image: U8, req: StyleRequest) -> U8:
    """Western needle felt: bold saturated wool pads, fuzzy borders, visible fibres and loose hairs.
    Strength: wool coverage (photo colours -> felt palette), pad depth, fuzz width, fibre contrast.
    Params: colors."""
    return _felt(image, req, WESTERN_WOOL)


#: traditional East Asian dye colours (Japanese "Nippon colours" / Chinese traditional colours): sakura,
#: momo peach, vermilion, yamabuki, matcha, wakatake, sora, indigo, fuji, kuri, sumi, gofun, kinari
_ASIAN_DYES = np.asarray(
    [
        (254, 223, 225),
        (245, 150, 170),
        (232, 92, 64),
        (250, 180, 40),
        (190, 196, 110),
        (93, 172, 129),
        (110, 184, 222),
        (40, 72, 150),
        (150, 136, 200),
        (120, 72, 44),
        (58, 60, 62),
        (252, 250, 242),
        (236, 224, 200),
    ],
    np.float32,
)


#: softer wool dyed in the traditional colours, pastel, warmer, with finer fibres
ASIAN_WOOL = Wool(
    0.8,
    _curve([(0, 0.3), (0.5, 0.75), (1, 1.0)]),
    tint=(1.05, 0.97, 0.95),
    fibre=0.7,
    pastel=0.2,
    dyes=_ASIAN_DYES,
)


@recipe("felt_asian", native_strength=True)
def felt_asian(image: U8, req: StyleRequest) -> U8:
    """Asian (kawaii) felt: the wool dyed in traditional East Asian colours (sakura, vermilion, matcha,
    indigo, wisteria... each region pulled to the nearest dye), softened to pastel on cream, finer fibres.
    Strength as for ``felt``. Params: colors."""
    return _felt(image, req, ASIAN_WOOL)
