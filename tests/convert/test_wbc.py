"""The TF.js graph converter and ``restyle cartoon-model install``, on a tiny random graph of the same ops.

The real model (CC BY-NC-SA 4.0) is never fetched by the tests. A tiny TF.js graph model with White-box
Cartoonization's structure (fused convolutions with LeakyReLU, a stride-2 conv, a ×2 bilinear skip, and a
guided filter built from depthwise box filters normalised by ``Fill``'d ones) is written into an npm-shaped
tarball, converted, and compared with an independent NumPy/PyTorch implementation of the same graph.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from restyle.convert import tfjs_graph, wbc
from tests.conftest import cli as restyle_cli

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


class Graph:
    """Writes ``model.json`` nodes and the weights manifest of a TF.js graph model."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = [{"name": "input_photo", "op": "Placeholder", "attr": {}}]
        self.weights: list[tuple[dict[str, Any], bytes]] = []
        self.values: dict[str, np.ndarray] = {}

    def const(self, name: str, value: np.ndarray, *, quantise: bool = False) -> str:
        self.nodes.append({"name": name, "op": "Const", "attr": {}})
        if value.dtype == np.int32:
            self.weights.append(
                ({"name": name, "shape": list(value.shape), "dtype": "int32"}, value.tobytes())
            )
            self.values[name] = value
        elif quantise:  # TF.js uint8 quantisation: value = q * scale + min
            lo, hi = float(value.min()), float(value.max())
            scale = (hi - lo) / 255 or 1.0
            q = np.round((value - lo) / scale).astype(np.uint8)
            meta = {"dtype": "uint8", "min": lo, "scale": scale}
            self.weights.append(({"name": name, "shape": list(value.shape), "dtype": "float32", "quantization": meta}, q.tobytes()))  # fmt: skip
            self.values[name] = (q.astype(np.float32) * np.float32(scale) + np.float32(lo)).reshape(
                value.shape
            )
        else:
            v = value.astype(np.float32)
            self.weights.append(({"name": name, "shape": list(v.shape), "dtype": "float32"}, v.tobytes()))
            self.values[name] = v
        return name

    def op(self, name: str, op: str, inputs: list[str], **attr: Any) -> str:
        self.nodes.append({"name": name, "op": op, "input": inputs, "attr": attr})
        return name

    def conv(self, name: str, x: str, w: np.ndarray, b: np.ndarray, stride: int = 1) -> str:
        self.const(f"{name}/weights", w, quantise=True)
        self.const(f"{name}/biases", b)
        return self.op(
            name, "_FusedConv2D", [x, f"{name}/weights", f"{name}/biases"],
            strides={"list": {"i": ["1", str(stride), str(stride), "1"]}}, padding={"s": _b64("SAME")},
            data_format={"s": _b64("NHWC")}, fused_ops={"list": {"s": [_b64("BiasAdd")]}},
        )  # fmt: skip

    def depthwise(self, name: str, x: str, channels: int, r: int = 1) -> str:
        self.const(f"{name}/filter_in", np.full((2 * r + 1, 2 * r + 1, channels, 1), 1 / (2 * r + 1) ** 2, np.float32), quantise=True)  # fmt: skip
        return self.op(name, "DepthwiseConv2dNative", [x, f"{name}/filter_in"], padding={"s": _b64("SAME")})

    def model(self) -> tuple[dict[str, Any], bytes]:
        manifest = [{"paths": ["group1-shard1of1.bin"], "weights": [m for m, _ in self.weights]}]
        topology = {"node": self.nodes}
        return {"format": "graph-model", "modelTopology": topology, "weightsManifest": manifest}, b"".join(
            d for _, d in self.weights
        )


def tiny_graph(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    g = Graph()

    def w(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.3, shape).astype(np.float32)

    a = g.op("lr0", "LeakyRelu", [g.conv("c0", "input_photo", w(3, 3, 3, 4), w(4))], alpha={"f": 0.2})
    b = g.op("lr1", "LeakyRelu", [g.conv("c1", a, w(3, 3, 4, 4), w(4), stride=2)], alpha={"f": 0.2})
    # ×2 resize, its size computed from the tensor's shape the way the TF.js converter writes it
    g.op("shape", "Shape", [b])
    for i, axis in enumerate((1, 2)):
        for k, v in (("stack", axis), ("stack_1", axis + 1), ("stack_2", 1)):
            g.const(f"ss{i}/{k}", np.array([v], np.int32))
        g.op(f"ss{i}", "StridedSlice", ["shape", f"ss{i}/stack", f"ss{i}/stack_1", f"ss{i}/stack_2"])
        g.const(f"mul{i}/y", np.array(2, np.int32))
        g.op(f"mul{i}", "Mul", [f"ss{i}", f"mul{i}/y"])
    g.op("size", "Pack", ["mul0", "mul1"])
    up = g.op("up", "ResizeBilinear", [b, "size"])
    skip = g.op("skip", "AddV2", [up, a])
    out = g.conv("c2", skip, w(3, 3, 4, 3), w(3))
    # guided-filter arithmetic: mean of x and of out over a 3x3 box, normalised by the box of ones
    g.op("ishape", "Shape", ["input_photo"])
    g.const("ones/value", np.array(1, np.int32))
    g.op("ones/packed", "Pack", ["ishape"])
    g.op("ones", "Fill", ["ones/packed", "ones/value"])
    n = g.depthwise("box_n", "ones", 1)
    mx = g.op("mean_x", "RealDiv", [g.depthwise("box_x", "input_photo", 3), n])
    prod = g.op("prod", "Mul", ["input_photo", out])
    mxy = g.op("mean_xy", "RealDiv", [g.depthwise("box_xy", prod, 3), n])
    sq = g.op("sq", "Square", [mx])
    g.const("eps", np.array(0.01, np.float32))
    var = g.op("var", "Add", [g.op("v0", "Sub", [mxy, sq]), "eps"])
    res = g.op("res", "Sub", [g.op("ratio", "RealDiv", [mxy, var]), mx])
    g.op("final_output", "Identity", [res])
    return g


def reference(g: Graph, x: np.ndarray) -> np.ndarray:
    """The same graph in PyTorch/NumPy (TF ``SAME`` padding and asymmetric bilinear written out)."""
    v = {k: torch.from_numpy(np.asarray(a)) for k, a in g.values.items()}
    t = torch.from_numpy(x).permute(0, 3, 1, 2)

    def conv(name: str, h: Any, stride: int = 1) -> Any:
        wt = v[f"{name}/weights"].permute(3, 2, 0, 1)
        h = F.pad(h, (1, 1, 1, 1)) if stride == 1 else F.pad(h, (0, 1, 0, 1))  # SAME for even sides
        return F.conv2d(h, wt, v[f"{name}/biases"], stride=stride)

    def box(name: str, h: Any) -> Any:
        wt = v[f"{name}/filter_in"].permute(2, 3, 0, 1)
        return F.conv2d(F.pad(h, (1, 1, 1, 1)), wt, groups=h.shape[1])

    def up2(h: Any) -> Any:  # asymmetric: out[2i] = in[i], out[2i+1] = (in[i] + in[min(i+1, n-1)]) / 2
        for dim in (2, 3):
            nxt = torch.cat([h.narrow(dim, 1, h.shape[dim] - 1), h.narrow(dim, h.shape[dim] - 1, 1)], dim)
            h = torch.stack([h, (h + nxt) / 2], dim + 1).flatten(dim, dim + 1)
        return h

    a = F.leaky_relu(conv("c0", t), 0.2)
    b = F.leaky_relu(conv("c1", a, 2), 0.2)
    out = conv("c2", up2(b) + a)
    n = box("box_n", torch.ones_like(t[:, :1]))
    mx = box("box_x", t) / n
    mxy = box("box_xy", t * out) / n
    res = mxy / (mxy - mx * mx + 0.01) - mx
    return np.asarray(res.permute(0, 2, 3, 1).numpy())


def test_converted_graph_matches_an_independent_implementation() -> None:
    import onnxruntime as ort

    g = tiny_graph()
    model, data = g.model()
    session = ort.InferenceSession(tfjs_graph.convert(model, data).SerializeToString())
    x = np.random.default_rng(1).uniform(-1, 1, (1, 12, 16, 3)).astype(np.float32)
    (got,) = session.run(None, {"input": x})
    want = reference(g, x)
    assert got.shape == want.shape == x.shape
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-3)


def test_unsupported_ops_and_bad_weights_are_clear_errors() -> None:
    g = tiny_graph()
    g.op("odd", "Softmax", ["final_output"])
    model, data = g.model()
    with pytest.raises(tfjs_graph.UnsupportedGraph, match="Softmax"):
        tfjs_graph.convert(model, data)
    with pytest.raises(tfjs_graph.UnsupportedGraph, match="bytes"):
        tfjs_graph.convert(*tiny_graph().model()[:1], data + b"x")


def npm_tarball(path: Path, g: Graph, *, name: str = wbc.PACKAGE) -> Path:
    model, data = g.model()
    bundle = (
        'var x={9788:e=>{"use strict";e.exports=\''
        + json.dumps(model, separators=(", ", ": "))
        + '\'},962:e=>{"use strict";e.exports="data:application/octet-stream;base64,'
        + base64.b64encode(data).decode()
        + '"}};'
    )
    files = {
        "package/package.json": json.dumps({"name": name, "version": "1.0.27"}),
        "package/LICENSE": "Licensed under the CC BY-NC-SA 4.0 license. Commercial application is prohibited.",
        wbc.BUNDLE: bundle,
    }
    with tarfile.open(path, "w:gz") as tar:
        for member, text in files.items():
            raw = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return restyle_cli(*args, env={"COLUMNS": "200"})


def test_install_needs_the_licence_accepted_and_prints_it(tmp_path: Path) -> None:
    tarball = npm_tarball(tmp_path / "pkg.tgz", tiny_graph())
    refused = cli("cartoon-model", "install", str(tarball), "--models-dir", str(tmp_path / "m"))
    assert refused.returncode == 2
    assert "CC BY-NC-SA 4.0" in refused.stdout and "--accept-license CC-BY-NC-SA-4.0" in refused.stderr
    assert not (tmp_path / "m").exists()
    wrong = npm_tarball(tmp_path / "other.tgz", tiny_graph(), name="left-pad")
    other = cli("cartoon-model", "install", str(wrong), "--accept-license", "CC-BY-NC-SA-4.0")
    assert other.returncode == 2 and "left-pad" in other.stderr


def test_installed_model_serves_a_style_through_the_onnx_engine(tmp_path: Path) -> None:
    from restyle.config import load_settings
    from restyle.engines import StyleRequest
    from restyle.engines.onnx import Engine, configure_catalogue
    from restyle.styles import catalogue

    tarball = npm_tarball(tmp_path / "pkg.tgz", tiny_graph())
    done = cli(
        "cartoon-model", "install", str(tarball), "--accept-license", "CC-BY-NC-SA-4.0",
        "--models-dir", str(tmp_path / "m"), "--styles", "201",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    model = tmp_path / "m" / wbc.MODEL_FILE
    assert model.is_file() and (tmp_path / "m" / "white-box-cartoonization.LICENSE.txt").is_file()
    source = json.loads((tmp_path / "m" / "white-box-cartoonization.SOURCE.json").read_text())
    assert source["license"] == "CC-BY-NC-SA-4.0" and len(source["tarball_sha256"]) == 64
    assert "[onnx_models.201]" in done.stdout
    toml = tmp_path / "restyle.toml"
    toml.write_text(done.stdout[done.stdout.index("[onnx_models.201]") :])
    settings = load_settings(toml)
    style = configure_catalogue(catalogue(), settings)["201"]
    assert style.engine == "onnx"
    engine = Engine.from_settings(settings)
    image = np.random.default_rng(2).integers(0, 256, (30, 42, 3), dtype=np.uint8)
    out = engine.stylize(image, StyleRequest(style=style, strength=1.0))
    assert out.shape == image.shape and out.dtype == np.uint8
    g = tiny_graph()
    x = np.zeros((1, 32, 44, 3), np.float32)  # the engine pads to a multiple of 4 (reflect)
    x[0] = np.pad(image.astype(np.float32) / 127.5 - 1, ((0, 2), (0, 2), (0, 0)), mode="reflect")
    want = np.clip((reference(g, x)[0, :30, :42] + 1) * 127.5, 0, 255)
    assert np.abs(out.astype(np.float32) - want).mean() < 2.0
