"""Faces for the classic engine: one shared detection per image, and face-aware maps built on it.

``face_boxes`` runs the shipped detector (as ``restyle.faces.detect_faces``: Haar ``alt2`` proposals
confirmed by ``alt``, with coarser scale steps on a 480-pixel copy) once per image and caches the boxes per thread, keyed by the image's size and a fingerprint of
its pixels, so every stage of a recipe (cartoon face maps, the relief face mask of the materials, the
portrait zone of the painters) reads the same faces for the cost of one scan (~80 ms of CPU). It is the
detector that judges face survival in ``bench/bench_quality.py``, so the faces it counts are the ones
treated.

``face_maps`` gives the cartoon styles soft maps of the skin to simplify, of the eyes and mouth whose lines
must stay, and of the cheeks to blush: fixed proportions of a frontal face box (eyes at ~42 % of the box
height, mouth at ~78 %, cheeks at ~66 %), gated by a skin-colour test so hair and background inside the box
keep their treatment.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, replace

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8, Colour
from restyle.engines.classic.toolkit import _a, _blur, _clip, _fit, _lum, _mix, _times, _tint
from restyle.faces import PROPOSE, _cascade, _confirmed

Box = tuple[float, float, float, float]  # x, y, width, height in pixels of the image given
#: faces are looked for on a copy this large (faces of 5 % of its short side and up)
FACE_SIDE = 480
MAX_FACES = 8
#: smaller images are upscaled to this long side before the scan
MIN_SIDE = 256
_cache = threading.local()


def _fingerprint(image: U8) -> tuple[int, ...]:
    """Size plus a CRC of a sparse pixel sample: the same picture at the same size hits the cache."""
    h, w = image.shape[:2]
    sy, sx = max(1, h // 48), max(1, w // 48)
    sample = np.ascontiguousarray(image[::sy, ::sx])
    return (h, w, zlib.crc32(sample.tobytes()), zlib.crc32(np.ascontiguousarray(image[h // 2]).tobytes()))


def forget() -> None:
    """Drop this thread's cached detection (the engine calls it at the start of every request, so a
    detection never outlives the call that made it, and timings of repeated calls stay honest)."""
    _cache.entries = {}


def face_boxes(image: U8) -> tuple[Box, ...]:
    """Faces in ``image`` (x, y, w, h in its pixels, largest first), detected once per image and thread."""
    key = _fingerprint(image)
    hit = getattr(_cache, "entries", {}).get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    h, w = image.shape[:2]
    if max(h, w) < MIN_SIDE:  # thumbnails: the confirming cascade needs a few more pixels per face
        k = MIN_SIDE / max(h, w)
        small: U8 = np.asarray(
            cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC), np.uint8
        )
    else:
        small = _fit(image, FACE_SIDE)
    s = w / small.shape[1]
    boxes = tuple((bx * s, by * s, bw * s, bh * s) for bx, by, bw, bh in _detect(small))
    _cache.entries = {key: boxes}  # one image at a time: a recipe asks several times about one picture
    return boxes


def _detect(small: U8) -> list[tuple[int, int, int, int]]:
    """``restyle.faces.detect_faces`` (``alt2`` proposals, each confirmed by ``alt``) with coarser scale
    steps, on a copy of ``FACE_SIDE``: half its time, the same faces on the bench's portraits."""
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    least = max(16, int(min(gray.shape) * 0.05))
    if min(gray.shape) < least:
        return []
    found = _cascade(PROPOSE).detectMultiScale(gray, scaleFactor=1.2, minNeighbors=2, minSize=(least, least))
    proposals = [(int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in np.asarray(found).reshape(-1, 4)]
    proposals.sort(key=lambda b: -b[2] * b[3])
    return [b for b in proposals if _confirmed(gray, b)][:MAX_FACES]


def scaled_boxes(image: U8, shape: tuple[int, ...]) -> list[Box]:
    """``face_boxes(image)`` in pixels of ``shape`` (height, width)."""
    sx, sy = int(shape[1]) / image.shape[1], int(shape[0]) / image.shape[0]
    return [(x * sx, y * sy, w * sx, h * sy) for x, y, w, h in face_boxes(image)]


@dataclass(frozen=True)
class FaceMaps:
    """0..1 maps at the working size."""

    skin: F32  # facial skin to smooth and clear of texture lines
    features: F32  # eyes, brows and mouth: their lines are kept (and a little strengthened)
    blush: F32  # cheeks
    region: F32  # skin of the head and neck (skin colour near a face): painted in cel tones
    eyes: F32  # the eye sockets, a little shaded: big dark anime eyes keep the face a face
    largest: float  # height of the largest face box, in pixels of the maps

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> FaceMaps:
        """The maps inside the box (rows ``y0:y1``, columns ``x0:x1``)."""
        return replace(
            self,
            skin=self.skin[y0:y1, x0:x1],
            features=self.features[y0:y1, x0:x1],
            blush=self.blush[y0:y1, x0:x1],
            region=self.region[y0:y1, x0:x1],
            eyes=self.eyes[y0:y1, x0:x1],
        )


def face_maps(image: U8, shape: tuple[int, ...]) -> FaceMaps | None:
    """Maps at ``shape`` (height, width) for the faces in ``image``; None when there is no face. They are
    drawn and blurred on the box around the faces (the widest ellipse plus three of its blur's sigmas) and
    are zero outside it: a fifth of the work for one portrait at 768 pixels."""
    boxes = scaled_boxes(image, shape)
    if not boxes:
        return None
    h, w = int(shape[0]), int(shape[1])
    scale = float(np.sqrt(max(b[2] for b in boxes) * max(b[3] for b in boxes)))
    pad = 3.0 * 0.08 * scale + 2.0  # the head map's blur reaches this far beyond its ellipse
    x0 = max(0, int(min(x - 0.12 * bw for x, _, bw, _ in boxes) - pad))
    x1 = min(w, int(max(x + 1.12 * bw for x, _, bw, _ in boxes) + pad) + 1)
    y0 = max(0, int(min(y - 0.2 * bh for _, y, _, bh in boxes) - pad))
    y1 = min(h, int(max(y + 1.8 * bh for _, y, _, bh in boxes) + pad) + 1)
    ch, cw = y1 - y0, x1 - x0
    face = np.zeros((ch, cw), np.float32)
    features = np.zeros((ch, cw), np.float32)
    blush = np.zeros((ch, cw), np.float32)
    head = np.zeros((ch, cw), np.float32)
    eyes = np.zeros((ch, cw), np.float32)
    for bx, by, bw, bh in boxes:
        box = (bx - x0, by - y0, bw, bh)
        _ellipse(eyes, box, 0.31, 0.42, 0.13, 0.07)
        _ellipse(eyes, box, 0.69, 0.42, 0.13, 0.07)
        _ellipse(head, box, 0.5, 0.8, 0.62, 1.0)
        _ellipse(face, box, 0.5, 0.56, 0.44, 0.58)
        _ellipse(features, box, 0.32, 0.42, 0.16, 0.1)  # eyes and brows
        _ellipse(features, box, 0.68, 0.42, 0.16, 0.1)
        _ellipse(features, box, 0.5, 0.78, 0.2, 0.09)  # mouth
        _ellipse(blush, box, 0.27, 0.66, 0.1, 0.055)
        _ellipse(blush, box, 0.73, 0.66, 0.1, 0.055)
    skin_colour = np.ascontiguousarray(_skin(image, shape)[y0:y1, x0:x1])

    def full(crop: F32) -> F32:
        out = np.zeros((h, w), np.float32)
        out[y0:y1, x0:x1] = crop
        return out

    return FaceMaps(
        skin=full(_a(_blur(face, 0.04 * scale) * skin_colour)),
        features=full(_a(_blur(features, 0.04 * scale))),
        blush=full(_a(_blur(blush, 0.06 * scale) * skin_colour)),
        eyes=full(_a(_blur(eyes, 0.04 * scale))),
        region=full(_a(_blur(head, 0.08 * scale) * _a(np.clip(skin_colour * 1.3, 0, 1)))),
        largest=float(max(b[3] for b in boxes)),
    )


def _ellipse(
    canvas: F32, box: tuple[float, float, float, float], cx: float, cy: float, ax: float, ay: float
) -> None:
    """Fill an ellipse placed in face-box proportions (centre ``cx, cy``, half-axes ``ax, ay``)."""
    x, y, fw, fh = box
    centre = (round(x + cx * fw), round(y + cy * fh))
    axes = (max(1, round(ax * fw)), max(1, round(ay * fh)))
    cv2.ellipse(canvas, centre, axes, 0.0, 0.0, 360.0, 1.0, -1)


def skin_colour(image: U8, shape: tuple[int, ...]) -> F32:
    """0..1 skin-colour map of ``image`` at ``shape`` (anywhere, not only in detected faces)."""
    return _skin(image, shape)


def _skin(image: U8, shape: tuple[int, ...]) -> F32:
    """Soft skin-colour test (YCrCb box of Chai and Ngan 1999, widened) at ``shape``."""
    small = _fit(image, 320)
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    inside = np.clip((cr - 128.0) / 8.0, 0, 1) * np.clip((178.0 - cr) / 8.0, 0, 1)
    inside = inside * np.clip((cb - 72.0) / 8.0, 0, 1) * np.clip((132.0 - cb) / 8.0, 0, 1)
    inside = _a(cv2.GaussianBlur(_a(inside), (0, 0), 2.0))
    return _a(cv2.resize(inside, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR))


def _smooth_step(lo: float, hi: float, x: F32) -> F32:
    v = np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return _a(v * v * (np.float32(3.0) - np.float32(2.0) * v))


def cel_skin(
    f: F32,
    photo: F32,
    maps: FaceMaps,
    *,
    tone: Colour,
    shade: Colour,
    ink: Colour,
    amount: float,
    split: float = 0.88,
    sharp: float = 0.04,
    wrinkles: float = 0.5,
    contrast: float = 0.012,
) -> F32:
    """Faces drawn, not filtered: the skin of head and neck (``maps.region``) repainted in two flat cel tones
    (a lit ``tone``-pulled colour and its ``shade``-multiplied shadow, split where the smoothed luminance
    falls below ``split`` of the skin's median, a ramp ``sharp`` wide), and the dark marks of eyes, brows,
    lashes, nostrils and mouth (``contrast`` darker than around them) from ``photo`` (0..1 RGB, same size)
    inked back crisp in ``ink``, elsewhere on the face at ``wrinkles`` of their weight: flat skin with dark
    eyes still has the light-dark pattern a face detector looks for. ``amount`` 0..1 fades it in. Works on
    the bounding box of the faces only."""
    box = _skin_box(maps, f.shape)
    if box is None or amount <= 0:
        return f
    y0, y1, x0, x1 = box
    crop = maps.crop(y0, y1, x0, x1)
    skin = np.ascontiguousarray(f[y0:y1, x0:x1])
    region = crop.region
    lum = _lum(skin)
    scale = max(2.0, maps.largest)
    # each face its own reference: the skin's mean colour and luminance around it (normalised blurs)
    reach = 0.5 * scale
    weight = _a(_blur(region, reach) + np.float32(1e-3))
    ref = _a(_blur(_a(lum * region), reach) / weight)
    base = _a(_blur(_times(skin, region), reach) / cv2.merge([weight] * 3))
    lit = _mix(base, tone, 0.6)
    gain = np.clip(np.float32(0.74) / (_lum(lit) + np.float32(0.05)), 1.0, 1.25)
    lit = _times(lit, _a(gain))
    dark = _tint(lit, shade)
    soft = _a(_blur(lum, 0.025 * scale))
    t = _smooth_step(-sharp, sharp, _a(ref * np.float32(split) - soft))
    cel = _clip(_mix(lit, dark, t))
    painted = _mix(skin, cel, _a(region * np.float32(amount)))
    marks = _marks(
        np.ascontiguousarray(photo[y0:y1, x0:x1]), crop, scale, contrast=contrast, wrinkles=wrinkles
    )
    painted = _times(painted, _a(1.0 - crop.eyes * np.float32(0.22 * amount)))
    out = f.copy()
    out[y0:y1, x0:x1] = _mix(painted, ink, _a(marks * np.float32(amount)))
    return out


def _skin_box(maps: FaceMaps, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): the box around the faces' skin (``maps.region``) with a margin of 0.3 of the
    largest face, inside ``shape``; None without skin."""
    ys, xs = np.nonzero(maps.region > 0.02)
    if len(ys) == 0:
        return None
    pad = round(0.3 * maps.largest)
    y0, y1 = max(0, int(ys.min()) - pad), min(shape[0], int(ys.max()) + pad + 1)
    x0, x1 = max(0, int(xs.min()) - pad), min(shape[1], int(xs.max()) + pad + 1)
    return y0, y1, x0, x1


def _marks(photo: F32, maps: FaceMaps, scale: float, *, contrast: float, wrinkles: float) -> F32:
    """0..1: the features to ink, what is darker than its surroundings (by ``contrast``) at the scale of an
    eye, in full over eyes, brows and mouth and at ``wrinkles`` of it over the rest of the skin."""
    plum = _lum(photo)
    marks = _a(_blur(plum, 0.03 * scale)) - _a(_blur(plum, 0.004 * scale))
    return _a(
        _smooth_step(contrast, contrast + 0.04, marks)
        * np.maximum(maps.features, _a(maps.skin * np.float32(wrinkles)))
    )
