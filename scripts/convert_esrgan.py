#!/usr/bin/env python3
"""Convert an ``@upscalerjs/esrgan-slim`` TF.js layers model to ONNX, once, without TensorFlow.

The npm package (MIT, Kevin Scott) ships each scale as ``models/x<N>/model.json`` (a Keras 2 functional
graph) plus one ``group1-shard1of1.bin`` of little-endian float32 weights. The x2 model is an RDN made of
stock layers only (Conv2D, ReLU, Concatenate, Add, UpSampling2D), so this script walks the Keras layer list
and writes the same graph with ``onnx.helper``: NHWC -> NCHW, HWIO kernels -> OIHW, Keras ``same``
padding -> symmetric pads. Anything else (custom layers, strides, dilations) stops the script.

The ONNX file takes and returns RGB float32 NCHW in 0..255 (the package's ``inputRange``/``outputRange``
for the RDN models), with free height and width. Run once; the result is committed under
``src/restyle/models/``::

    cd /tmp && npm pack @upscalerjs/esrgan-slim
    .venv/bin/python scripts/convert_esrgan.py /tmp/upscalerjs-esrgan-slim-1.0.0.tgz --scale 2 \\
        -o src/restyle/models/esrgan-slim-x2.onnx --check

``--check`` runs the package's own sample (``assets/fixture.png`` -> ``assets/samples/<N>x/result.png``)
through onnxruntime and prints the largest and mean absolute difference in 8-bit levels.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
IR_VERSION = 8  # readable by onnxruntime >= 1.14


def read_package(source: Path, scale: int) -> tuple[dict[str, Any], bytes, dict[str, bytes], str]:
    """(model.json, weights, {asset path: bytes}, version) from an npm tarball or an unpacked directory."""
    files: dict[str, bytes] = {}
    if source.is_dir():
        for p in source.rglob("*"):
            if p.is_file():
                files[p.relative_to(source).as_posix()] = p.read_bytes()
    else:
        with tarfile.open(source) as tar:
            for m in tar.getmembers():
                fh = tar.extractfile(m) if m.isfile() else None
                if fh is not None:
                    files[m.name.removeprefix("package/")] = fh.read()
    meta = json.loads(files["package.json"])
    if meta.get("name") != "@upscalerjs/esrgan-slim":
        sys.exit(f"{source} is {meta.get('name')!r}, not @upscalerjs/esrgan-slim")
    model = json.loads(files[f"models/x{scale}/model.json"])
    paths = [p for group in model["weightsManifest"] for p in group["paths"]]
    weights = b"".join(files[f"models/x{scale}/{p}"] for p in paths)
    return model, weights, files, str(meta["version"])


def unpack_weights(model: dict[str, Any], blob: bytes) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in model["weightsManifest"]:
        for w in group["weights"]:
            if w["dtype"] != "float32" or "quantization" in w:
                sys.exit(f"weight {w['name']}: only plain float32 is supported")
            n = int(np.prod(w["shape"]))
            out[w["name"]] = np.frombuffer(blob, "<f4", n, offset).reshape(w["shape"]).copy()
            offset += 4 * n
    if offset != len(blob):
        sys.exit(f"weights manifest covers {offset} of {len(blob)} bytes")
    return out


def build_onnx(model: dict[str, Any], weights: dict[str, np.ndarray], *, doc: str) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    config = model["modelTopology"]["model_config"]["config"]
    nodes: list[Any] = []
    inits: list[Any] = []
    inputs: list[Any] = []
    for layer in config["layers"]:
        kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
        srcs = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        if kind == "InputLayer":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 3, "H", "W"]))
        elif kind == "Conv2D":
            if cfg["strides"] != [1, 1] or cfg["dilation_rate"] != [1, 1] or cfg.get("groups", 1) != 1:
                sys.exit(f"{name}: only stride 1, dilation 1, groups 1 are supported")
            kh, kw = cfg["kernel_size"]
            if cfg["padding"] == "same":
                if kh % 2 == 0 or kw % 2 == 0:
                    sys.exit(f"{name}: 'same' padding with an even kernel is not supported")
                pads = [kh // 2, kw // 2, kh // 2, kw // 2]
            else:
                pads = [0, 0, 0, 0]
            kernel = weights[f"{name}/kernel"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
            inits.append(numpy_helper.from_array(np.ascontiguousarray(kernel), f"{name}/W"))
            conv_in = [srcs[0], f"{name}/W"]
            if cfg["use_bias"]:
                inits.append(numpy_helper.from_array(weights[f"{name}/bias"], f"{name}/B"))
                conv_in.append(f"{name}/B")
            act = cfg["activation"]
            out = name if act == "linear" else f"{name}/conv"
            nodes.append(
                helper.make_node("Conv", conv_in, [out], name=name, kernel_shape=[kh, kw], pads=pads)
            )
            if act == "relu":
                nodes.append(helper.make_node("Relu", [out], [name], name=f"{name}/relu"))
            elif act != "linear":
                sys.exit(f"{name}: activation {act!r} is not supported")
        elif kind == "Activation":
            if cfg["activation"] != "relu":
                sys.exit(f"{name}: activation {cfg['activation']!r} is not supported")
            nodes.append(helper.make_node("Relu", srcs, [name], name=name))
        elif kind == "Concatenate":
            if cfg["axis"] not in (3, -1):
                sys.exit(f"{name}: only channel concatenation is supported")
            nodes.append(helper.make_node("Concat", srcs, [name], name=name, axis=1))
        elif kind == "Add":
            acc = srcs[0]
            for i, other in enumerate(srcs[1:]):
                out = name if i == len(srcs) - 2 else f"{name}/{i}"
                nodes.append(helper.make_node("Add", [acc, other], [out], name=out))
                acc = out
        elif kind == "UpSampling2D":
            if cfg["interpolation"] != "nearest":
                sys.exit(f"{name}: only nearest upsampling is supported")
            sy, sx = cfg["size"]
            scales = np.asarray([1, 1, sy, sx], np.float32)
            inits.append(numpy_helper.from_array(scales, f"{name}/scales"))
            nodes.append(
                helper.make_node(
                    "Resize",
                    [srcs[0], "", f"{name}/scales"],
                    [name],
                    name=name,
                    mode="nearest",
                    coordinate_transformation_mode="asymmetric",
                    nearest_mode="floor",
                )
            )
        else:
            sys.exit(f"{name}: layer {kind} is not supported (only stock Keras layers are)")
    (out_name, _, _), *rest = config["output_layers"]
    if rest:
        sys.exit("only single-output models are supported")
    outputs = [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", 3, "H2", "W2"])]
    graph = helper.make_graph(nodes, "esrgan_slim", inputs, outputs, inits)
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="restyle scripts/convert_esrgan.py",
        doc_string=doc,
    )
    onnx_model.ir_version = IR_VERSION
    return onnx_model


def check(model_path: Path, files: dict[str, bytes], scale: int) -> tuple[int, float]:
    import onnxruntime as ort
    from PIL import Image

    src = np.asarray(Image.open(io.BytesIO(files["assets/fixture.png"])).convert("RGB"), np.float32)
    want = np.asarray(Image.open(io.BytesIO(files[f"assets/samples/{scale}x/result.png"])).convert("RGB"))
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    x = src.transpose(2, 0, 1)[None]
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0][0].transpose(1, 2, 0)
    got = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    return int(diff.max()), float(diff.mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", type=Path, help="npm pack tarball or unpacked package directory")
    ap.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--check", action="store_true", help="compare with the package's sample output")
    args = ap.parse_args(argv)

    import onnx

    model, blob, files, version = read_package(args.package, args.scale)
    weights = unpack_weights(model, blob)
    doc = (
        f"@upscalerjs/esrgan-slim {version} x{args.scale} (MIT, Copyright (c) 2022 Kevin Scott), "
        "converted by restyle scripts/convert_esrgan.py. Input and output: RGB float32 NCHW, 0..255."
    )
    onnx_model = build_onnx(model, weights, doc=doc)
    for key, value in {
        "source": f"npm:@upscalerjs/esrgan-slim@{version} models/x{args.scale}",
        "license": "MIT",
        "scale": str(args.scale),
        "layout": "NCHW",
        "range": "0..255",
        "channels": "RGB",
    }.items():
        onnx_model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(onnx_model, full_check=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, {len(weights)} tensors)")
    if args.check:
        worst, mean = check(args.output, files, args.scale)
        print(f"package sample x{args.scale}: max abs diff {worst} LSB, mean {mean:.3f} LSB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
