"""Engines on Ray Serve replicas behind a real API node (RESTYLE_ENGINE_BACKEND=ray).

A private Ray cluster on loopback, started by the node and stopped with it (by PID / its session).
"""

from __future__ import annotations

import base64
import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.test_admission import call, client
from tests.conftest import Server, encode, photo
from tests.scale.backends import listening_addresses, process_tree, start_slow_node

pytest.importorskip("ray.serve", reason="Ray is not installed (pip install restyle[ray])")
pytestmark = [pytest.mark.restyle_only, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("ray")
    node = start_slow_node(tmp, engine_backend="ray", ray_max_queued_requests=4, compute_threads=2)
    yield node
    pids = process_tree(node.proc.pid)
    node.stop()
    _wait_gone(pids, 20)


def _wait_gone(pids: set[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = {p for p in pids if Path(f"/proc/{p}").exists() and _not_zombie(p)}
        if not alive:
            return
        time.sleep(0.2)
    for p in alive:  # leftovers of the Ray cluster: stop them by PID
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    raise AssertionError(f"processes left behind: {sorted(alive)}")


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def stylize(server: Server, image: bytes) -> np.ndarray:
    c = client(server, server.secret_id, server.secret_key)
    from tencentcloud.aiart.v20221229 import models

    req = models.ImageToImageRequest()
    req.InputImage = base64.b64encode(image).decode()
    req.Styles = ["201"]
    req.LogoAdd = 0
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(c.ImageToImage(req).ResultImage))))


def test_engines_run_on_ray_replicas(ray_node: Server, make_server: object) -> None:
    assert "engines on Ray Serve: classic" in ray_node.log()
    ready = httpx.get(f"{ray_node.url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"]["engine:classic"] == "ok", ready.text
    # the same pipeline: a Ray node answers what a local node answers
    image = encode(photo("astronaut", (256, 256)))
    remote = stylize(ray_node, image)
    local_node: Server = make_server()  # type: ignore[operator]
    local = stylize(local_node, image)
    assert remote.shape == local.shape
    assert np.abs(remote.astype(int) - local.astype(int)).mean() < 1.0


def test_ray_node_serves_concurrent_calls(ray_node: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    c = client(ray_node, ray_node.secret_id, ray_node.secret_key)
    params = {"InputImage": base64.b64encode(encode(photo("coffee", (300, 200)))).decode(), "Styles": ["133"]}
    with ThreadPoolExecutor(3) as pool:
        codes = [f.result()[0] for f in [pool.submit(call, c, params) for _ in range(3)]]
    assert codes == ["OK"] * 3


def test_ray_listens_on_loopback_only(ray_node: Server) -> None:
    pids = process_tree(ray_node.proc.pid)
    assert len(pids) > 3  # gcs, raylet, Serve controller, replica, ...
    addresses = listening_addresses(pids)
    assert addresses
    public = [a for a in addresses if not a.startswith(("127.", "[::1]"))]
    assert not public, public  # Serve replicas bind [::]:0 by default; see serving/ray_serve.py


class _Response:
    def __init__(self, exc: BaseException | None = None, delay: float = 0.0) -> None:
        self.exc, self.delay, self.cancelled = exc, delay, False

    def result(self, timeout_s: float | None = None) -> np.ndarray:
        if self.exc is not None:
            raise self.exc
        if self.delay:
            time.sleep(min(self.delay, timeout_s or self.delay))
            raise TimeoutError
        return np.zeros((4, 4, 3), np.uint8)

    def cancel(self) -> None:
        self.cancelled = True


def _remote(response: _Response) -> object:
    from types import SimpleNamespace

    from restyle.serving.ray_serve import RemoteEngine

    backend = SimpleNamespace(
        handles={"classic": SimpleNamespace(stylize=SimpleNamespace(remote=lambda *a: response))},
        batched=set(),
    )
    return RemoteEngine("classic", backend)  # type: ignore[arg-type]


def test_full_queue_answers_request_limit_exceeded() -> None:
    from ray.serve.exceptions import BackPressureError

    from restyle import errors
    from restyle.engines import StyleRequest
    from restyle.styles import catalogue

    engine = _remote(_Response(BackPressureError(num_queued_requests=4, max_queued_requests=4)))
    with pytest.raises(errors.RequestLimitExceeded, match="queue is full"):
        engine.stylize(np.zeros((4, 4, 3), np.uint8), StyleRequest(style=catalogue()["201"], strength=0.5))  # type: ignore[attr-defined]


def test_out_of_budget_cancels_the_remote_call() -> None:
    from restyle import errors
    from restyle.engines import StyleRequest
    from restyle.styles import catalogue

    response = _Response(delay=10)
    engine = _remote(response)
    t_end = time.monotonic() + 0.3

    def checkpoint() -> None:
        if time.monotonic() > t_end:
            raise errors.RequestTimeout()

    request = StyleRequest(style=catalogue()["201"], strength=0.5, checkpoint=checkpoint)
    with pytest.raises(errors.RequestTimeout):
        engine.stylize(np.zeros((4, 4, 3), np.uint8), request)  # type: ignore[attr-defined]
    assert response.cancelled


def test_loopback_patch_matches_the_installed_ray() -> None:
    """The replica gRPC rebinding is made for one Ray: this fails when Ray, or the call it patches, changes."""
    import inspect
    import re

    import ray
    from ray.serve._private import replica

    from restyle.serving import ray_loopback

    root = Path(__file__).resolve().parents[2]
    pin = re.search(r"^ray==(\S+)$", (root / "constraints-ray.txt").read_text("utf-8"), re.MULTILINE)
    assert pin is not None and pin.group(1) == ray.__version__ == ray_loopback.RAY_PATCHED
    source = inspect.getsource(replica)
    assert source.count(ray_loopback.PATCHED_CALL) == 1, "Ray changed how replicas bind their gRPC server"
    assert list(inspect.signature(replica.add_port_to_grpc_server).parameters) == ["server", "address"]
    ray_loopback.check_loopback_patch()
