"""One onnxruntime session factory for every model restyle runs (onnx engine, ESRGAN upscaler, nsfw moderator).

It owns the import of onnxruntime (an optional dependency: a clear message names the extra to install),
the execution-provider policy (``device``: ``auto`` takes CUDA when this onnxruntime has it, ``cuda``
insists on it, ``cpu`` never uses it) and the thread settings (``threads`` intra-op threads, 0 = all
cores; one inter-op thread: restyle runs several jobs side by side instead).
"""

from __future__ import annotations

import importlib.util
from typing import Any

EXTRA = "pip install 'restyle[onnx]'"
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def version() -> str | None:
    """The installed onnxruntime version, or None (without importing it when it is missing)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    import onnxruntime as ort

    return str(ort.__version__)


def runtime(user: str = "restyle") -> Any:
    """The onnxruntime module; RuntimeError naming ``user`` and the extra when it is not installed."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        msg = f"{user} needs onnxruntime: pip install onnxruntime (or: {EXTRA})"
        raise RuntimeError(msg) from exc
    return ort


def providers(device: str = "auto") -> list[str]:
    """Execution providers for ``device`` (auto | cpu | cuda), best first."""
    if device == "cpu":
        return [CPU]
    available = runtime().get_available_providers()
    if device == "cuda" and CUDA not in available:
        msg = f"device = cuda, but this onnxruntime has no {CUDA} (install onnxruntime-gpu)"
        raise RuntimeError(msg)
    return [CUDA, CPU] if CUDA in available else [CPU]


def session(model: bytes | str, *, threads: int = 0, device: str = "auto", user: str = "restyle") -> Any:
    """An ``InferenceSession`` for a model file path or serialised bytes (thread-safe to ``run``)."""
    ort = runtime(user)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model, opts, providers=providers(device))
