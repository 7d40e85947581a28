"""Graph surgery: instance-norm statistics shared by all tiles (see the package docstring, step 3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from restyle.engines.onnx.spec import Layout


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
