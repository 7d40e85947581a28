"""One plugin protocol: every kind derives from ``Plugin`` and is built, probed and closed alike."""

from __future__ import annotations

import base64
import dataclasses
import importlib
import io
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from restyle import engines, jobs, limiters, moderators, plugins, restorers, service, storages, upscalers
from restyle.config import Settings
from restyle.engines import classic
from restyle.imaging.arrays import U8
from restyle.limiters.memory import Limiter as MemoryLimiter
from restyle.pipeline.job import ImageRef, Job
from restyle.pipeline.run import run
from restyle.storages import BaseStorage, LinkSigner
from restyle.storages.local import Storage as LocalStorage
from restyle.storages.memory import Storage as MemoryStorage
from restyle.styles import Style, catalogue

REGISTRIES = {
    "engine": engines.REGISTRY,
    "storage": storages.REGISTRY,
    "limiter": limiters.REGISTRY,
    "moderator": moderators.REGISTRY,
    "restorer": restorers.REGISTRY,
    "upscaler": upscalers.REGISTRY,
    "jobs queue": jobs.REGISTRY,
}


def registered() -> list[tuple[str, str, str]]:
    return [(kind, name, target) for kind, reg in REGISTRIES.items() for name, target in reg.items()]


@pytest.mark.parametrize(("kind", "name", "target"), registered())
def test_every_registered_plugin_is_a_plugin(kind: str, name: str, target: str) -> None:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    assert issubclass(cls, plugins.Plugin), f"{kind} {name}: {cls} does not derive from Plugin"
    assert cls.name != "base", f"{kind} {name}: {cls} keeps the base name"


def test_cheap_plugins_build_from_settings_alone(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    for kind, name in [
        ("limiter", "memory"),
        ("moderator", "none"),
        ("moderator", "wordlist"),
        ("restorer", "none"),
        ("restorer", "detail"),
        ("upscaler", "none"),
        ("upscaler", "sharpen"),
    ]:
        part = service.build_plugin(kind, name, REGISTRIES[kind], s)
        assert isinstance(part, plugins.Plugin)
        part.ready()
        part.close()


def test_storages_are_built_with_the_link_signer(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    signer = LinkSigner(b"k" * LinkSigner.MIN_SECRET_BYTES)
    local = service.build_storage(s, signer)
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "results"
    assert isinstance(MemoryStorage.from_settings(s, signer), MemoryStorage)
    with pytest.raises(TypeError, match="link signer"):
        MemoryStorage.from_settings(s)


def test_only_plugins_with_a_backend_are_probed() -> None:
    signer = LinkSigner(b"k" * LinkSigner.MIN_SECRET_BYTES)
    assert not plugins.probed(MemoryStorage(signer))
    assert not plugins.probed(MemoryLimiter())
    assert not plugins.probed(classic.Engine())
    redis_limiter = importlib.import_module("restyle.limiters.redis").Limiter
    s3_storage = importlib.import_module("restyle.storages.s3").Storage
    assert redis_limiter.ready is not plugins.Plugin.ready
    assert s3_storage.ready is not BaseStorage.ready


def test_classic_engine_checks_its_catalogue_entries() -> None:
    engine = classic.Engine()
    for style in catalogue().values():
        if style.engine == "classic":
            engine.check_style(style)
    typo = dataclasses.replace(catalogue()["201"], recipe="cartoonn")
    with pytest.raises(ValueError, match=r"style 201: classic engine has no recipe 'cartoonn'"):
        engine.check_style(typo)


def test_gpu_use_is_declared_on_the_engine_class() -> None:
    assert engines.BaseEngine.uses_gpu is False
    assert classic.Engine.uses_gpu is False
    onnx = importlib.import_module("restyle.engines.onnx").Engine
    assert onnx.uses_gpu is True


class ExtraStyleEngine(engines.BaseEngine):
    """A third-party engine (``engine_plugins``) that adds a style of its own through the catalogue hook."""

    name = "extra"

    @classmethod
    def configure_catalogue(cls, catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
        out = dict(catalogue)
        out["9001"] = dataclasses.replace(catalogue["201"], id="9001", engine=EXTRA, en="extra style")
        return out

    def stylize(self, image: U8, request: engines.StyleRequest) -> U8:
        return 255 - image


EXTRA = f"{__name__}:ExtraStyleEngine"


def test_an_engine_plugin_adds_its_styles_and_serves_them(tmp_path: Path) -> None:
    plain = service.configured_catalogue(Settings(data_dir=tmp_path))
    assert "9001" not in plain and plain.keys() == catalogue().keys()
    settings = Settings(data_dir=tmp_path, engine_plugins=[EXTRA], moderator="none", restorer="none")
    cat = service.configured_catalogue(settings)
    assert cat["9001"].engine == EXTRA and cat["9001"].en == "extra style"
    assert {k: v for k, v in cat.items() if k != "9001"} == plain
    svc = service.build_service(settings)
    try:
        engine = svc.plugins.engines[EXTRA]
        assert isinstance(engine, ExtraStyleEngine)
        img = np.full((8, 8, 3), 10, np.uint8)
        assert (engine.stylize(img, engines.StyleRequest(cat["9001"], 1.0)) == 245).all()
    finally:
        svc.close()


def test_an_unknown_engine_plugin_stops_startup(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"engine 'no_such_module:Engine' cannot be loaded"):
        service.configured_catalogue(Settings(data_dir=tmp_path, engine_plugins=["no_such_module:Engine"]))


def test_engines_without_settings_leave_the_catalogue_as_it_is(tmp_path: Path) -> None:
    base = catalogue()
    settings = Settings(data_dir=tmp_path)
    for name in engines.REGISTRY:
        cls = plugins.resolve("engine", name, engines.REGISTRY)
        assert cls.configure_catalogue(base, settings) == base, name


def guide_modules() -> dict[str, str]:
    """The python examples of docs/plugins.md that start with ``# <module>.py``, by module name."""
    text = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    named = [b for b in blocks if re.match(r"# \w+\.py\b", b)]
    return {re.match(r"# (\w+)\.py", b).group(1): b for b in named}  # type: ignore[union-attr]


def test_the_plugin_guide_examples_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules = guide_modules()
    assert set(modules) == {"myco_plugins", "myco_engine"}
    for name, code in modules.items():
        (tmp_path / f"{name}.py").write_text(code, "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = Settings(
        data_dir=tmp_path / "data",
        upscaler="myco_plugins:Upscaler",
        engine_plugins=["myco_engine:Engine"],
        moderator="none",
        restorer="none",
        provenance="none",
    )
    svc = service.build_service(settings)
    try:
        assert type(svc.plugins.upscaler).__name__ == "Upscaler" and svc.plugins.upscaler.name == "unsharp"
        assert svc.plugins.catalogue["9001"].en == "negative"
        photo = np.zeros((64, 96, 3), np.uint8)
        photo[:, 48:] = 200
        png = io.BytesIO()
        Image.fromarray(photo).save(png, "PNG")
        source = ImageRef(base64=base64.b64encode(png.getvalue()).decode())

        def styled(enhance: int) -> npt.NDArray[np.int64]:
            job = Job(request_id="guide", source=source, styles=["9001"], logo_add=0, enhance=enhance)
            result = run(job, svc.plugins, svc.limits, base_url="http://127.0.0.1")
            return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")).astype(np.int64)

        plain, sharpened = styled(0), styled(1)
        assert plain.shape == photo.shape
        assert abs(plain[:, :40].mean() - 255) < 6 and abs(plain[:, 56:].mean() - 55) < 6  # the negative
        # the unsharp mask overshoots on both sides of the edge: darker dark side, brighter bright side
        assert sharpened[:, 49:51].mean() < plain[:, 49:51].mean() - 5
    finally:
        svc.close()
