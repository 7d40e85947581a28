"""Convert nsfwjs's MobileNetV2 (npm ``nsfwjs``, MIT) to ONNX, once, with onnx.helper only (no TF).

The npm package bundles a TF.js *layers* model (Keras 2.2.4 topology) as JavaScript: ``model.min.js``
holds the topology and weights manifest, ``group1-shard1of1.min.js`` the weights as one base64 string,
quantised to uint8 (value = q * scale + min). This script:

1. reads both files with ``node`` (they are JS object literals, not JSON);
2. builds an ONNX graph layer by layer (Conv2D, DepthwiseConv2D, BatchNormalization, ReLU(6),
   ZeroPadding2D, Add, AveragePooling2D, Flatten, Dense, Dropout = identity). The weights stay uint8
   in the file; the graph dequantises them exactly as TF.js does (Cast → Mul scale → Add min), and
   onnxruntime folds those constants when the session starts, so the file is ~2.6 MB;
3. with ``--check``, runs the same 224×224 inputs through TF.js in node (``npm install
   @tensorflow/tfjs`` in the package's folder) and through onnxruntime, and compares.

Input: float32 NHWC [N, 224, 224, 3], RGB scaled to 0..1 (nsfwjs divides by 255 and resizes with
bilinear ``alignCorners=true``). Output ``probs`` [N, 5]: Drawing, Hentai, Neutral, Porn, Sexy (softmax).

    cd /tmp && npm pack nsfwjs && tar xzf nsfwjs-4.3.0.tgz
    .venv/bin/python scripts/convert_nsfwjs.py /tmp/package \
        -o src/restyle/moderators/models/nsfwjs_mobilenet_v2.onnx [--check]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
MODEL_DIR = "dist/models/mobilenet_v2"


def read_bundle(package: Path) -> tuple[dict[str, Any], bytes]:
    """(model JSON, weight bytes) from the package's JS bundles, evaluated by node."""
    js = (
        "const fs=require('fs');"
        f"const m=require({json.dumps(str(package / MODEL_DIR / 'model.min.js'))});"
        f"const w=require({json.dumps(str(package / MODEL_DIR / 'group1-shard1of1.min.js'))});"
        "process.stdout.write(JSON.stringify({model:m, weights:w}));"
    )
    out = subprocess.run(["node", "-e", js], check=True, capture_output=True).stdout
    obj = json.loads(out)
    return obj["model"], base64.b64decode(obj["weights"])


def read_weights(model: dict[str, Any], blob: bytes) -> dict[str, tuple[np.ndarray, float, float]]:
    """name → (uint8 array in Keras layout, scale, min)."""
    out: dict[str, tuple[np.ndarray, float, float]] = {}
    offset = 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            q = spec["quantization"]
            if q["dtype"] != "uint8":
                msg = f"unsupported quantisation {q['dtype']} for {spec['name']}"
                raise SystemExit(msg)
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            arr = np.frombuffer(blob, np.uint8, n, offset).reshape(spec["shape"])
            offset += n
            out[spec["name"]] = (arr, float(q["scale"]), float(q["min"]))
    if offset != len(blob):
        msg = f"weights: read {offset} of {len(blob)} bytes"
        raise SystemExit(msg)
    return out


class Builder:
    """Accumulates nodes and initialisers; every tensor between layers is NCHW."""

    def __init__(self, weights: dict[str, tuple[np.ndarray, float, float]]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.used: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, key: str, perm: tuple[int, ...] | None = None) -> str:
        """A dequantised weight: uint8 initialiser → Cast → * scale → + min (folded by onnxruntime)."""
        q, scale, lo = self.weights[key]
        self.used.add(key)
        if perm is not None:
            q = np.ascontiguousarray(q.transpose(perm))
        base = "w:" + key
        raw = self.const(f"{base}_q", q)
        s = self.const(f"{base}_scale", np.array(scale, np.float32))
        m = self.const(f"{base}_min", np.array(lo, np.float32))
        self.node("Cast", [raw], f"{base}_f", to=TensorProto.FLOAT)
        self.node("Mul", [f"{base}_f", s], f"{base}_scaled")
        return self.node("Add", [f"{base}_scaled", m], base)

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def conv_pads(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg["padding"] == "same":
        return {"auto_pad": "SAME_UPPER"}  # TF "same": the extra pixel goes at the end
    return {"pads": [0, 0, 0, 0]}


def activation(b: Builder, x: str, name: str, act: str) -> str:
    if act == "linear":
        return x
    if act == "relu":
        return b.node("Relu", [x], f"{name}_relu")
    if act == "softmax":
        return b.node("Softmax", [x], f"{name}_softmax", axis=-1)
    msg = f"unsupported activation {act}"
    raise SystemExit(msg)


def convert_layer(b: Builder, layer: dict[str, Any], x: list[str]) -> str:
    kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = cfg["padding"]
        pads = b.const(f"{name}_pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
        return b.node("Pad", [x[0], pads], name, mode="constant")
    if kind == "Conv2D":
        w = b.weight(f"{name}/kernel", (3, 2, 0, 1))  # [kh, kw, in, out] → [out, in, kh, kw]
        ins = [x[0], w] + ([b.weight(f"{name}/bias")] if cfg["use_bias"] else [])
        y = b.node(
            "Conv",
            ins,
            f"{name}_conv",
            kernel_shape=cfg["kernel_size"],
            strides=cfg["strides"],
            dilations=cfg["dilation_rate"],
            **conv_pads(cfg),
        )
        return b.node("Identity", [activation(b, y, name, cfg["activation"])], name)
    if kind == "DepthwiseConv2D":
        q = b.weights[f"{name}/depthwise_kernel"][0]  # [kh, kw, in, mult]
        if q.shape[3] != 1:
            msg = f"{name}: depth multiplier {q.shape[3]} not supported"
            raise SystemExit(msg)
        w = b.weight(f"{name}/depthwise_kernel", (2, 3, 0, 1))  # → [in, 1, kh, kw]
        ins = [x[0], w] + ([b.weight(f"{name}/bias")] if cfg["use_bias"] else [])
        y = b.node(
            "Conv",
            ins,
            f"{name}_conv",
            group=int(q.shape[2]),
            kernel_shape=cfg["kernel_size"],
            strides=cfg["strides"],
            dilations=cfg["dilation_rate"],
            **conv_pads(cfg),
        )
        return b.node("Identity", [activation(b, y, name, cfg["activation"])], name)
    if kind == "BatchNormalization":
        if cfg["axis"] not in (-1, 3):
            msg = f"{name}: axis {cfg['axis']}"
            raise SystemExit(msg)
        ins = [x[0]] + [b.weight(f"{name}/{p}") for p in ("gamma", "beta", "moving_mean", "moving_variance")]
        return b.node("BatchNormalization", ins, name, epsilon=float(cfg["epsilon"]))
    if kind == "ReLU":
        if cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
            msg = f"{name}: leaky/thresholded ReLU not supported"
            raise SystemExit(msg)
        if cfg.get("max_value") is None:
            return b.node("Relu", x, name)
        lo = b.const(f"{name}_lo", np.array(0.0, np.float32))
        hi = b.const(f"{name}_hi", np.array(float(cfg["max_value"]), np.float32))
        return b.node("Clip", [x[0], lo, hi], name)
    if kind == "Add":
        return b.node("Sum", x, name)
    if kind == "AveragePooling2D":
        if cfg["padding"] != "valid":
            msg = f"{name}: padding {cfg['padding']}"
            raise SystemExit(msg)
        return b.node("AveragePool", x, name, kernel_shape=cfg["pool_size"], strides=cfg["strides"])
    if kind == "Flatten":
        nhwc = b.node("Transpose", x, f"{name}_nhwc", perm=[0, 2, 3, 1])  # Keras flattens in NHWC order
        return b.node("Flatten", [nhwc], name, axis=1)
    if kind == "Dense":
        y = b.node("MatMul", [x[0], b.weight(f"{name}/kernel")], f"{name}_mm")
        if cfg["use_bias"]:
            y = b.node("Add", [y, b.weight(f"{name}/bias")], f"{name}_bias")
        return b.node("Identity", [activation(b, y, name, cfg["activation"])], name)
    if kind == "Dropout":
        return b.node("Identity", x, name)
    msg = f"unsupported layer {kind} ({name})"
    raise SystemExit(msg)


def build(model: dict[str, Any], blob: bytes) -> onnx.ModelProto:
    config = model["modelTopology"]["model_config"]["config"]
    b = Builder(read_weights(model, blob))
    outputs: dict[str, str] = {}
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            outputs[layer["name"]] = b.node("Transpose", ["input"], "input_nchw", perm=[0, 3, 1, 2])
            continue
        (inbound,) = layer["inbound_nodes"]
        outputs[layer["name"]] = convert_layer(b, layer, [outputs[src[0]] for src in inbound])
    missing = set(b.weights) - b.used
    if missing:
        msg = f"weights not used by any layer: {sorted(missing)}"
        raise SystemExit(msg)
    (last,) = config["output_layers"]
    b.node("Identity", [outputs[last[0]]], "probs")
    graph = helper.make_graph(
        b.nodes,
        "nsfwjs_mobilenet_v2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 224, 224, 3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", len(CLASSES)])],
        b.inits,
    )
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="restyle"
    )
    onnx_model.ir_version = 8
    onnx_model.doc_string = (
        "nsfwjs 4.3.0 MobileNetV2 (MIT, Copyright (c) 2019 Infinite Red, Inc.), converted by "
        "scripts/convert_nsfwjs.py. Input NHWC RGB 0..1 at 224x224; output softmax over " + ", ".join(CLASSES)
    )
    for i, cls in enumerate(CLASSES):
        onnx_model.metadata_props.add(key=f"class_{i}", value=cls)
    onnx.checker.check_model(onnx_model)
    return onnx_model


def check_images() -> dict[str, np.ndarray]:
    """224×224 uint8 RGB test inputs: scikit-image photos (all SFW), a drawing-like flat image, noise."""
    from PIL import Image
    from skimage import data

    out: dict[str, np.ndarray] = {}
    for name in (
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "cat",
        "hubble_deep_field",
        "immunohistochemistry",
    ):
        img = getattr(data, name)()
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        out[name] = np.asarray(Image.fromarray(img[:, :, :3]).resize((224, 224), Image.Resampling.BILINEAR))
    flat = np.full((224, 224, 3), 255, np.uint8)
    flat[40:180, 60:160] = (30, 60, 200)
    out["flat_shapes"] = flat
    out["noise"] = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    return out


def run_tfjs(package: Path, images: dict[str, np.ndarray], tfjs_dir: Path) -> dict[str, list[float]]:
    """The reference: nsfwjs's own model through TF.js (CPU backend) in node, same 224×224 inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        names = list(images)
        for i, name in enumerate(names):
            (Path(tmp) / f"{i}.raw").write_bytes(images[name].tobytes())
        js = f"""
const tf = require({json.dumps(str(tfjs_dir / "node_modules/@tensorflow/tfjs"))});
const fs = require('fs');
const m = require({json.dumps(str(package / MODEL_DIR / "model.min.js"))});
const w = require({json.dumps(str(package / MODEL_DIR / "group1-shard1of1.min.js"))});
(async () => {{
  await tf.setBackend('cpu');
  const buf = Buffer.from(w, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({{
    modelTopology: m.modelTopology, weightSpecs: m.weightsManifest[0].weights, weightData: ab }}));
  const out = [];
  for (let i = 0; i < {len(names)}; i++) {{
    const raw = fs.readFileSync({json.dumps(tmp)} + '/' + i + '.raw');
    const x = tf.tensor(new Uint8Array(raw), [1, 224, 224, 3], 'int32').toFloat().div(tf.scalar(255));
    out.push(Array.from(await model.predict(x).data()));
  }}
  process.stdout.write(JSON.stringify(out));
}})();
"""
        res = subprocess.run(["node", "-e", js], check=True, capture_output=True, text=True).stdout
    return dict(zip(names, json.loads(res), strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package", type=Path, help="unpacked npm nsfwjs package (the folder with package.json)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--check", action="store_true", help="compare with TF.js in node on test photos")
    ap.add_argument("--tfjs-dir", type=Path, help="folder whose node_modules has @tensorflow/tfjs")
    ap.add_argument("--reference", type=Path, help="write the TF.js outputs here (JSON) with --check")
    args = ap.parse_args()

    meta = json.loads((args.package / "package.json").read_text())
    model, blob = read_bundle(args.package)
    onnx_model = build(model, blob)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, args.output)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(
        f"{meta['name']} {meta['version']} → {args.output} ({args.output.stat().st_size} bytes, sha256 {digest})"
    )

    if args.check:
        import onnxruntime as ort

        images = check_images()
        ref = run_tfjs(args.package, images, args.tfjs_dir or args.package.parent)
        sess = ort.InferenceSession(str(args.output), providers=["CPUExecutionProvider"])
        worst = 0.0
        for name, img in images.items():
            got = sess.run(None, {"input": (img[None].astype(np.float32) / 255.0)})[0][0]
            diff = float(np.abs(got - np.array(ref[name])).max())
            worst = max(worst, diff)
            top = CLASSES[int(np.argmax(got))]
            shown = " ".join(f"{c}={p:.3f}" for c, p in zip(CLASSES, got, strict=True))
            print(f"{name:22s} top={top:8s} {shown}  |onnx-tfjs|max={diff:.2e}")
        if args.reference:
            args.reference.write_text(json.dumps(ref, indent=1) + "\n")
        if worst > 1e-3:
            sys.exit(f"ONNX differs from TF.js by {worst:.2e}")
        print(f"ONNX matches TF.js (max abs difference {worst:.2e})")


if __name__ == "__main__":
    main()
