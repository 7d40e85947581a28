"""A TensorFlow.js *graph* model (``model.json`` + weights) as an ONNX graph, built with ``onnx.helper``.

Covers the operations of small image-to-image generators exported by the TF.js converter 2.x:
``Placeholder``, ``Const``, ``_FusedConv2D`` (with ``BiasAdd``), ``Conv2D``, ``DepthwiseConv2dNative``,
``LeakyRelu``, ``Relu``, ``Square``, ``Add``/``AddV2``, ``Sub``, ``Mul``, ``RealDiv``, ``ResizeBilinear``
(an integer ×k of its input, as in U-Net decoders), ``Identity``; and the ``Shape → StridedSlice → Pack →
Fill`` pattern that builds a tensor of ones shaped like the input (box-filter normalisers of a guided filter).

The ONNX graph keeps the model's NHWC interface and works in NCHW inside (one transpose at each end).
Quantised weights (``uint8`` with ``min``/``scale``) are dequantised exactly as TF.js does
(``q * scale + min``) and stored as float32. TF's ``SAME`` padding is ONNX's ``SAME_UPPER``;
``ResizeBilinear`` without ``align_corners``/``half_pixel_centers`` is ONNX ``asymmetric`` linear.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np
from onnx import ModelProto, NodeProto, TensorProto, helper, numpy_helper

_DTYPES = {"float32": np.float32, "int32": np.int32}
_ELEMENTWISE = {"AddV2": "Add", "Add": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div"}
#: ops that only compute a shape for ``Fill``/``ResizeBilinear``; they are replaced, not converted
_SHAPE_OPS = {"Shape", "StridedSlice", "Pack"}


class UnsupportedGraph(ValueError):
    """The model uses an operation or attribute this converter does not handle."""


def read_weights(manifest: list[dict[str, Any]], data: bytes) -> dict[str, np.ndarray]:
    """Weight arrays by name from the manifest's groups and their concatenated bytes."""
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in manifest:
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            value: np.ndarray
            if quant:
                qtype = np.uint8 if quant["dtype"] == "uint8" else np.uint16
                raw = np.frombuffer(data, qtype, count, offset)
                offset += raw.nbytes
                value = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            else:
                dtype = _DTYPES.get(w["dtype"])
                if dtype is None:
                    msg = f"weight {w['name']}: dtype {w['dtype']} is not supported"
                    raise UnsupportedGraph(msg)
                value = np.frombuffer(data, dtype, count, offset).copy()
                offset += value.nbytes
            out[w["name"]] = value.reshape(shape)
    if offset != len(data):
        msg = f"weights: the manifest describes {offset} bytes, the data has {len(data)}"
        raise UnsupportedGraph(msg)
    return out


def _attr(node: Mapping[str, Any], name: str) -> Any:
    value = node.get("attr", {}).get(name, {})
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "list" in value:
        lst = value["list"]
        if "i" in lst:
            return [int(x) for x in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(x).decode() for x in lst["s"]]
        return []
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "i" in value:
        return int(value["i"])
    return None


def _check_conv(node: Mapping[str, Any]) -> tuple[list[int], str]:
    if (_attr(node, "data_format") or "NHWC") != "NHWC":
        msg = f"{node['name']}: only NHWC convolutions are supported"
        raise UnsupportedGraph(msg)
    dilations = _attr(node, "dilations") or [1, 1, 1, 1]
    if any(d != 1 for d in dilations):
        msg = f"{node['name']}: dilated convolutions are not supported"
        raise UnsupportedGraph(msg)
    strides = _attr(node, "strides") or [1, 1, 1, 1]
    padding = _attr(node, "padding") or "SAME"
    if padding not in ("SAME", "VALID"):
        msg = f"{node['name']}: padding {padding} is not supported"
        raise UnsupportedGraph(msg)
    return strides[1:3], "SAME_UPPER" if padding == "SAME" else "VALID"


class _Builder:
    def __init__(self, weights: dict[str, np.ndarray], input_name: str) -> None:
        self.weights = weights
        self.input = input_name
        self.nodes: list[NodeProto] = []
        self.inits: list[TensorProto] = []
        self.names: dict[str, str] = {}  # TF tensor -> ONNX tensor (NCHW for images)
        self.ones_like: str | None = None

    def init(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def src(self, name: str) -> str:
        base = name.split(":")[0]
        if base not in self.names:
            if base in self.weights:
                return self.init(base, self.weights[base].astype(np.float32))
            msg = f"tensor {name} is used before it is defined (or comes from an unsupported op)"
            raise UnsupportedGraph(msg)
        return self.names[base]

    def conv(self, node: Mapping[str, Any], *, depthwise: bool) -> None:
        strides, pad = _check_conv(node)
        name, inputs = node["name"], node["input"]
        w = self.weights[inputs[1]]
        if depthwise:  # [kh, kw, in, multiplier] -> [in * multiplier, 1, kh, kw], one group per input channel
            kh, kw, cin, mult = w.shape
            weight = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group = cin
        else:  # HWIO -> OIHW
            weight = w.transpose(3, 2, 0, 1)
            group = 1
        args = [self.src(inputs[0]), self.init(f"{name}/W", weight.astype(np.float32))]
        if node["op"] == "_FusedConv2D":
            fused = _attr(node, "fused_ops") or []
            if fused != ["BiasAdd"]:
                msg = f"{name}: fused ops {fused} are not supported (only BiasAdd)"
                raise UnsupportedGraph(msg)
            args.append(self.init(f"{name}/B", self.weights[inputs[2]].astype(np.float32)))
        self.nodes.append(
            helper.make_node(
                "Conv", args, [name], name=name, strides=strides, auto_pad=pad, group=group,
                kernel_shape=list(weight.shape[2:]),
            )
        )  # fmt: skip
        self.names[name] = name

    def ones(self) -> str:
        """A [N, 1, H, W] tensor of ones shaped like the input (what ``Shape→Pack→Fill`` builds)."""
        if self.ones_like is None:
            start, end, axes = (
                self.init(f"ones/{k}", np.array([v], np.int64)) for k, v in (("s", 0), ("e", 1), ("a", 1))
            )
            self.nodes += [
                helper.make_node("Slice", [self.input, start, end, axes], ["ones/first"]),
                helper.make_node("Mul", ["ones/first", self.init("ones/zero", np.array(0, np.float32))], ["ones/zeros"]),
                helper.make_node("Add", ["ones/zeros", self.init("ones/one", np.array(1, np.float32))], ["ones/like"]),
            ]  # fmt: skip
            self.ones_like = "ones/like"
        return self.ones_like

    def resize(self, node: Mapping[str, Any], factor: int) -> None:
        if _attr(node, "align_corners") or _attr(node, "half_pixel_centers"):
            msg = f"{node['name']}: align_corners/half_pixel_centers resizing is not supported"
            raise UnsupportedGraph(msg)
        scales = self.init(f"{node['name']}/scales", np.array([1, 1, factor, factor], np.float32))
        self.nodes.append(
            helper.make_node(
                "Resize", [self.src(node["input"][0]), "", scales], [node["name"]], name=node["name"],
                mode="linear", coordinate_transformation_mode="asymmetric",
            )
        )  # fmt: skip
        self.names[node["name"]] = node["name"]


def _resize_factor(node: Mapping[str, Any], by_name: Mapping[str, Mapping[str, Any]], weights: Any) -> int:
    """The integer k of ``ResizeBilinear(x, Pack(Shape(x)[1] * k, Shape(x)[2] * k))``."""
    pack = by_name.get(node["input"][1].split(":")[0])
    factors = set()
    for mul_name in (pack or {}).get("input", []):
        mul = by_name.get(mul_name.split(":")[0], {})
        consts = [weights[i] for i in mul.get("input", []) if i in weights]
        if mul.get("op") != "Mul" or len(consts) != 1:
            factors.add(-1)
            continue
        factors.add(int(np.asarray(consts[0]).reshape(-1)[0]))
    if len(factors) != 1 or min(factors) < 1:
        msg = f"{node['name']}: only a resize to an integer multiple of the input size is supported"
        raise UnsupportedGraph(msg)
    return factors.pop()


def _shape_only(nodes: list[dict[str, Any]]) -> set[str]:
    """Nodes that compute shapes (from ``Shape``), not images: replaced by ``Fill``/``ResizeBilinear``."""
    found: set[str] = set()
    for node in nodes:  # the TF.js converter writes nodes in topological order
        ins = {i.split(":")[0] for i in node.get("input", [])}
        if node["op"] in _SHAPE_OPS or (
            node["op"] != "Fill" and node["op"] != "ResizeBilinear" and ins & found
        ):
            found.add(node["name"])
    return found


def _add_node(
    b: _Builder, node: Mapping[str, Any], by_name: Mapping[str, Any], weights: dict[str, np.ndarray]
) -> bool:
    """Convert one node; True when it is the graph's ``Identity`` output."""
    op, name = node["op"], node["name"]
    if op in ("_FusedConv2D", "Conv2D"):
        b.conv(node, depthwise=False)
    elif op == "DepthwiseConv2dNative":
        source = by_name.get(node["input"][0].split(":")[0], {})
        if source.get("op") == "Fill":
            b.names[source["name"]] = b.ones()
        b.conv(node, depthwise=True)
    elif op == "Fill":
        b.names[name] = b.ones()
    elif op in ("LeakyRelu", "Relu"):
        kwargs: dict[str, Any] = {"alpha": float(_attr(node, "alpha") or 0.2)} if op == "LeakyRelu" else {}
        b.nodes.append(helper.make_node(op, [b.src(node["input"][0])], [name], name=name, **kwargs))
        b.names[name] = name
    elif op == "Square":
        x = b.src(node["input"][0])
        b.nodes.append(helper.make_node("Mul", [x, x], [name], name=name))
        b.names[name] = name
    elif op in _ELEMENTWISE:
        args = [b.src(i) for i in node["input"]]
        b.nodes.append(helper.make_node(_ELEMENTWISE[op], args, [name], name=name))
        b.names[name] = name
    elif op == "ResizeBilinear":
        b.resize(node, _resize_factor(node, by_name, weights))
    elif op == "Identity":
        b.names[name] = b.src(node["input"][0])
        return True
    else:
        msg = f"{name}: operation {op} is not supported"
        raise UnsupportedGraph(msg)
    return False


def convert(model: Mapping[str, Any], weight_data: bytes, *, producer: str = "restyle") -> ModelProto:
    """The ONNX model of a TF.js graph model (the parsed ``model.json`` and its weight bytes)."""
    if model.get("format") != "graph-model":
        msg = f"not a TF.js graph model (format {model.get('format')!r})"
        raise UnsupportedGraph(msg)
    nodes = model["modelTopology"]["node"]
    by_name = {n["name"]: n for n in nodes}
    weights = read_weights(model["weightsManifest"], weight_data)
    placeholders = [n for n in nodes if n["op"] == "Placeholder"]
    if len(placeholders) != 1:
        msg = f"expected one input, found {len(placeholders)}"
        raise UnsupportedGraph(msg)
    b = _Builder(weights, "x_nchw")
    b.nodes.append(helper.make_node("Transpose", ["input"], ["x_nchw"], perm=[0, 3, 1, 2]))
    b.names[placeholders[0]["name"]] = "x_nchw"
    output = None
    shape_only = _shape_only(nodes)
    for node in nodes:
        if node["op"] in ("Const", "Placeholder") or node["name"] in shape_only:
            continue
        if _add_node(b, node, by_name, weights):
            output = node["name"]
    last = b.names[output] if output else b.nodes[-1].output[0]
    b.nodes.append(helper.make_node("Transpose", [last], ["output"], perm=[0, 2, 3, 1]))
    dims: list[int | str] = ["N", "H", "W", 3]
    graph = helper.make_graph(
        b.nodes,
        "tfjs_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, dims)],
        b.inits,
    )
    onnx_model = helper.make_model(graph, producer_name=producer, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    return onnx_model
