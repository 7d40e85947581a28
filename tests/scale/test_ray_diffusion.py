"""Ray replicas build the diffusion engine from the API node's settings (model registry, presets, device,
threads), with paths made absolute: a node configured with paths relative to its working folder paints on
its replicas what a local node paints."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.config import load_settings
from tests.conftest import b64, encode, photo

pytest.importorskip("ray.serve", reason="Ray is not installed (pip install restyle[ray])")
from restyle.engines import diffusion as diffusion_engine  # noqa: E402

if diffusion_engine.missing_packages():
    pytest.skip("restyle[diffusion] is not installed", allow_module_level=True)

from restyle.engines.diffusion import registry as reg  # noqa: E402
from restyle.serving.ray_serve import EngineReplica, node_settings  # noqa: E402
from tests.engines import tiny_diffusion as tiny  # noqa: E402
from tests.scale.backends import process_tree, start_slow_node  # noqa: E402
from tests.scale.test_ray import _wait_gone  # noqa: E402

pytestmark = [pytest.mark.restyle_only, pytest.mark.slow, pytest.mark.timeout(900)]
STYLES = {"990": {"base": "tiny", "loras": {"ink": 1.0}, "steps": 3, "template": "{prompt}, oil"}}


def _kit(root: Path) -> None:
    """tiny models under root/models, registered in root/models/models.toml with relative paths."""
    folder = tiny.build_tiny_pipeline(root / "models" / "tiny-sd")
    lora = tiny.build_tiny_lora(folder, root / "models" / "lora", seed=1)
    models = reg.Registry(file=root / "models" / "models.toml")
    for kind, name, path in (("base", "tiny", folder), ("lora", "ink", lora)):
        models.add(reg.Model(kind=kind, name=name, path=path, sha256=reg.sha256(path)))  # type: ignore[arg-type]
    models.save()


def test_node_settings_are_absolute_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _kit(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        None,
        diffusion_models="models/models.toml",
        diffusion_device="cpu",
        ray_num_cpus=1,
        data_dir="data",
        secret_id="AKIDx",
        secret_key="k" * 32,
    )
    data = node_settings(settings)
    assert data["diffusion_models"] == str(tmp_path / "models" / "models.toml")
    assert data["data_dir"] == str(tmp_path / "data")
    assert data["diffusion_threads"] == 1 and data["onnx_threads"] == 1
    assert data["secret_key"] is None and data["s3_secret_access_key"] is None  # no credentials shipped
    json.dumps(data, default=str)  # plain data
    monkeypatch.chdir("/")  # a replica runs elsewhere: the engine still finds every model
    data["diffusion_styles"] = STYLES
    import torch

    threads = torch.get_num_threads()
    try:
        replica = EngineReplica("diffusion", 600.0, settings=data)
        from restyle.service import configured_catalogue

        style = configured_catalogue(replica.settings)["990"]
        out = replica.stylize(photo("astronaut", (64, 64)), style, 0.6, "a cat", "", 1)
        info = replica.describe()
    finally:
        torch.set_num_threads(threads)
    assert out.shape == (64, 64, 3)
    assert info["engine"] == "Engine" and info["device"] == "cpu" and info["torch_threads"] == 1
    assert info["diffusion_models"] == str(tmp_path / "models" / "models.toml")
    assert replica.engine.cache.loads == {"base:tiny": 1, "lora:ink": 1}  # type: ignore[attr-defined]


def test_ray_replica_paints_like_a_local_node(tmp_path: Path, make_server: object) -> None:
    """Same pictures on a Ray replica as on a local node; concurrent calls are painted together on the
    replica (``@serve.batch``), each with its own seed, as they are painted one by one locally."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.wire import sdk

    _kit(tmp_path)
    settings = {
        "diffusion_models": "models/models.toml",  # relative to the node's working folder (tmp_path)
        "diffusion_device": "cpu",
        "diffusion_styles": STYLES,
        "job_timeout_s": 300,
    }
    local = make_server(wait_s=180, **settings)  # type: ignore[operator]
    # the Ray node batches: calls arriving within 1 s of the first are painted in one pipeline call
    node = start_slow_node(
        tmp_path,
        engine_backend="ray",
        diffusion_batch_size=3,
        diffusion_batch_wait_ms=1000,
        compute_threads=3,
        **settings,
    )
    try:
        # the seed comes from the picture: three pictures, three seeds
        pictures = [photo(name, (72, 64)) for name in ("chelsea", "coffee", "astronaut")]

        def paint(srv: object, picture: np.ndarray) -> np.ndarray:
            cli = sdk.client(sdk.Target(srv, srv.secret_id, srv.secret_key))  # type: ignore[attr-defined]
            tiny.patient(cli)
            src = b64(encode(picture, "PNG"))
            resp = sdk.call(cli, {"InputImage": src, "Styles": ["990"], "LogoAdd": 0, "Prompt": "a cat"})
            return np.asarray(Image.open(io.BytesIO(base64.b64decode(resp.ResultImage))).convert("RGB"))

        assert "engines on Ray Serve: " in node.log() and "diffusion" in node.log()
        remote, here = paint(node, pictures[0]), paint(local, pictures[0])  # the first call loads the models
        assert remote.shape == here.shape == (64, 72, 3)
        assert np.abs(remote.astype(int) - here).max() <= 1, np.abs(remote.astype(int) - here).max()
        alone = [here] + [paint(local, p) for p in pictures[1:]]
        with ThreadPoolExecutor(3) as pool:
            together = list(pool.map(lambda p: paint(node, p), pictures))
        for i in range(3):
            gap = np.abs(together[i].astype(int) - alone[i]).max()
            assert gap <= 1, (i, gap)
        assert np.abs(alone[0].astype(int) - alone[1]).mean() > 1  # three different pictures
        log = node.log()
        # three calls sent at once: on a loaded machine one may come late, but never all alone
        sizes = [int(n) for n in re.findall(r"style 990 painted in a batch of (\d)", log)]
        assert sizes[0] == 1 and len(sizes) == 4 and max(sizes[1:]) >= 2, sizes
    finally:
        pids = process_tree(node.proc.pid)
        node.stop()
        _wait_gone(pids, 30)
    assert os.path.isdir(tmp_path / "models")
