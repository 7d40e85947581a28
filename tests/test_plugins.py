"""One plugin protocol: every kind derives from ``Plugin`` and is built, probed and closed alike."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from pathlib import Path

import pytest

from restyle import engines, limiters, moderators, plugins, restorers, service, storages, upscalers
from restyle.config import Settings
from restyle.engines import classic
from restyle.limiters.memory import Limiter as MemoryLimiter
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
    """A third-party engine that adds one style of its own through the catalogue hook."""

    name = "extra"

    @classmethod
    def configure_catalogue(cls, catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
        out = dict(catalogue)
        out["9001"] = dataclasses.replace(catalogue["201"], id="9001", engine="extra", en="extra style")
        return out


def test_every_registered_engine_shapes_the_catalogue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    plain = service.configured_catalogue(settings)
    assert "9001" not in plain and plain.keys() == catalogue().keys()
    monkeypatch.setitem(engines.REGISTRY, "extra", f"{__name__}:ExtraStyleEngine")
    cat = service.configured_catalogue(settings)
    assert cat["9001"].engine == "extra" and cat["9001"].en == "extra style"
    assert {k: v for k, v in cat.items() if k != "9001"} == plain


def test_engines_without_settings_leave_the_catalogue_as_it_is(tmp_path: Path) -> None:
    base = catalogue()
    settings = Settings(data_dir=tmp_path)
    for name in engines.REGISTRY:
        cls = plugins.resolve("engine", name, engines.REGISTRY)
        assert cls.configure_catalogue(base, settings) == base, name
