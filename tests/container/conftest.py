"""Fixtures of the container tests: podman (installed from Debian when missing), a base image made with
mmdebstrap (cached outside the repo), the restyle image built from ./Containerfile, running containers
stopped and removed by name. Settings: tests/container/runtime.py."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from PIL import Image
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from tests.conftest import encode, free_port, photo
from tests.container import runtime
from tests.container.runtime import ROOT, Settings, log, loud, sh

SECRET_ID = "AKIDrestyleContainerKey000000000000"
SECRET_KEY = "restyleContainerSecretKey0000000000"
IMAGE_TAG = "localhost/restyle:test"
FIGURES: dict[str, str] = {}  # measured figures, printed at the end of the session


@pytest.fixture(scope="session")
def ct() -> Settings:
    """The runtime settings, once podman works; skips (loudly) or, under CI, fails otherwise."""
    s = Settings()
    if not s.enabled:
        loud("CONTAINER TESTS SKIPPED: RESTYLE_TEST_CONTAINER=0")
        pytest.skip("RESTYLE_TEST_CONTAINER=0")
    why = runtime.ensure_tools(s)
    if why:
        loud(f"CONTAINER TESTS SKIPPED: NO CONTAINER RUNTIME CAN BE INSTALLED: {why}")
        if os.environ.get("CI"):
            pytest.fail(f"no container runtime: {why}")
        pytest.skip(f"NO CONTAINER RUNTIME CAN BE INSTALLED: {why}")
    return s


@pytest.fixture(scope="session")
def base_image(ct: Settings) -> str:
    return runtime.base_image(ct)


@pytest.fixture(scope="session")
def restyle_image(ct: Settings, base_image: str) -> str:
    """./Containerfile built on the base image (podman's layer cache makes a rebuild take seconds)."""
    log(f"building {IMAGE_TAG} from ./Containerfile on {base_image}")
    took = runtime.build(ct, IMAGE_TAG, ROOT, ROOT / "Containerfile", base=base_image)
    size = int(sh([ct.podman, "image", "inspect", "--format", "{{.Size}}", IMAGE_TAG]).stdout.strip())
    FIGURES["image build"] = f"{took:.0f} s"
    FIGURES["image size"] = f"{size / 1e6:.0f} MB (base {_size(ct, base_image) / 1e6:.0f} MB)"
    log(f"built in {took:.0f} s, {size / 1e6:.0f} MB")
    return IMAGE_TAG


def _size(ct: Settings, ref: str) -> int:
    return int(sh([ct.podman, "image", "inspect", "--format", "{{.Size}}", ref]).stdout.strip())


def pytest_sessionfinish(session: pytest.Session) -> None:
    if FIGURES:
        log("measured: " + "; ".join(f"{k}: {v}" for k, v in FIGURES.items()))


# --- running containers -------------------------------------------------------------------------
@dataclass
class Container:
    ct: Settings
    name: str
    port: int
    volume: str
    secret_id: str = SECRET_ID
    secret_key: str = SECRET_KEY
    started_to_healthy_s: float = 0.0
    extra_names: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def podman(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return sh([self.ct.podman, *self.ct.global_args(), *args], timeout=timeout, check=check)

    def logs(self) -> str:
        p = self.podman("logs", self.name, check=False)
        return p.stdout + p.stderr

    def inspect(self) -> dict[str, object]:
        return json.loads(self.podman("inspect", self.name).stdout)[0]  # type: ignore[no-any-return]

    def remove(self) -> None:
        self.podman("rm", "-f", "-t", "0", self.name, check=False)
        self.podman("volume", "rm", "-f", self.volume, check=False)


def start_container(
    ct: Settings,
    image: str,
    *,
    init: bool | None = None,
    env: dict[str, str] | None = None,
    wait_s: float = 60,
) -> Container:
    """`podman run -d` with a published loopback port and a named data volume; waits for /healthz."""
    tag = uuid.uuid4().hex[:8]
    c = Container(ct, f"restyle-ct-{tag}", free_port(), f"restyle-ct-{tag}-data")
    envs = {"RESTYLE_SECRET_ID": SECRET_ID, "RESTYLE_SECRET_KEY": SECRET_KEY, **(env or {})}
    args = ["run", "-d", "--name", c.name, *ct.run_args(init=init), "-p", f"127.0.0.1:{c.port}:8080"]
    args += ["-v", f"{c.volume}:/var/lib/restyle"]
    for k, v in envs.items():
        args += ["-e", f"{k}={v}"]
    t0 = time.monotonic()
    c.podman(*args, image)
    try:
        wait_healthy(c.url, wait_s, lambda: c.logs())
    except BaseException:
        c.remove()
        raise
    c.started_to_healthy_s = time.monotonic() - t0
    return c


def wait_healthy(url: str, wait_s: float, logs: object, path: str = "/healthz") -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + path, timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"{url}{path} never answered 200:\n{logs()[-5000:]}")  # type: ignore[operator]


@pytest.fixture
def container(ct: Settings, restyle_image: str) -> Iterator[object]:
    """Factory: containers of the restyle image, removed (with their volumes) after the test."""
    made: list[Container] = []

    def factory(**kw: object) -> Container:
        c = start_container(ct, restyle_image, **kw)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield factory
    for c in made:
        c.remove()


# --- calling it with the official SDK -----------------------------------------------------------
def sdk(url: str, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY) -> aiart_client.AiartClient:
    hp = HttpProfile(endpoint=url.removeprefix("http://"), protocol="http", reqTimeout=120)
    return aiart_client.AiartClient(
        credential.Credential(secret_id, secret_key), "ap-singapore", ClientProfile(httpProfile=hp)
    )


def call(c: aiart_client.AiartClient, params: dict[str, object]) -> tuple[str, dict[str, object]]:
    """("OK", response fields) or (error code, {"Message": ...})."""
    req = models.ImageToImageRequest()
    req.from_json_string(json.dumps(params))
    try:
        resp = c.ImageToImage(req)
    except TencentCloudSDKException as exc:
        return str(exc.get_code()), {"Message": exc.get_message()}
    return "OK", json.loads(resp.to_json_string())


def small_params(**extra: object) -> dict[str, object]:
    img = base64.b64encode(encode(photo("coffee", (320, 240)))).decode()
    return {"InputImage": img, "Styles": ["201"], "LogoAdd": 0, **extra}


_SLOW: dict[int, str] = {}
SLOW_SIDE = 3600
# containers of the tests get one compute thread, so that a job queued behind a big one holds its slot
# for as long as the big one runs, and a time budget that a loaded 2-core machine cannot exceed
TEST_ENV = {"RESTYLE_COMPUTE_THREADS": "1", "RESTYLE_JOB_TIMEOUT_S": "600"}


def slow_params(side: int = SLOW_SIDE) -> dict[str, object]:
    """A job that keeps the node's compute thread for seconds: a big photo styled at full size."""
    if side not in _SLOW:
        _SLOW[side] = base64.b64encode(encode(photo("astronaut", (side, side)), quality=80)).decode()
    return {
        "InputImage": _SLOW[side],
        "Styles": ["201"],
        "ResultConfig": {"Resolution": "origin"},
        "LogoAdd": 0,
    }


def metric(url: str, name: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    m = re.search(rf"^{name}(?:\{{[^}}]*\}})? ([0-9.e+-]+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def wait_for(cond: object, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached in {timeout} s")


def decode_jpeg(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img
