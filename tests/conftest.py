"""Shared fixtures: real restyle servers started as subprocesses on loopback, stopped by PID."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import numpy as np
import pytest
from PIL import Image

from tests.loopback import Host, serving

ROOT = Path(__file__).resolve().parents[1]
SECRET_ID = "AKIDrestyleTestKey0000000000000000"
SECRET_KEY = "restyleTestSecretKey000000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# In-process apps (TestClient) read RESTYLE_* from the environment: no background preview rendering there
# either, so a gated test engine is only ever entered by the test's own call (tests/web checks startup).
os.environ.setdefault("RESTYLE_PLAYGROUND_PREVIEWS", "on-demand")

# Property tests draw the same examples on every run, so a gate is reproducible (a CI failure is found
# again locally); RESTYLE_HYPOTHESIS_RANDOM=1 explores new examples instead (print_blob says how to replay).
hypothesis.settings.register_profile(
    "restyle", derandomize=os.environ.get("RESTYLE_HYPOTHESIS_RANDOM") != "1", print_blob=True
)
hypothesis.settings.load_profile("restyle")


@dataclass
class Server:
    """A running ``restyle serve`` process."""

    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    secret_id: str = SECRET_ID
    secret_key: str = SECRET_KEY
    env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def sign(self, body: bytes, **kw: Any) -> dict[str, str]:
        """TC3 headers for ``body`` signed with this server's key, now (``kw``: ``action`` and the like)."""
        from restyle.api.signing import sign_tc3_headers

        return sign_tc3_headers(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            host=self.endpoint,
            body=body,
            timestamp=int(time.time()),
            **kw,
        )

    def restyle(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the CLI against this server's data dir."""
        return cli(*args, "--data-dir", str(self.data_dir), env=self.env, timeout=60)


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m restyle ARGS`` (``env`` over os.environ), output captured as text, within ``timeout`` s."""
    return subprocess.run(
        [sys.executable, "-m", "restyle", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def start_server(tmp: Path, *, wait_s: float = 30.0, own_session: bool = False, **settings: object) -> Server:
    """Start ``python -m restyle serve`` with RESTYLE_* settings; wait until /healthz answers.

    ``own_session`` puts the server in its own process group (so every child, e.g. Ray's, can be found).
    """
    port = free_port()
    data_dir = tmp / f"data-{port}"
    env = {
        "RESTYLE_SECRET_ID": SECRET_ID,
        "RESTYLE_SECRET_KEY": SECRET_KEY,
        "RESTYLE_URL_ALLOWLIST": json.dumps(["127.0.0.1", "::1", "localhost"]),
        "RESTYLE_LOG_LEVEL": "info",
        # test servers render previews when asked (tests/web checks the startup rendering on its own)
        "RESTYLE_PLAYGROUND_PREVIEWS": "on-demand",
    }
    for k, v in settings.items():
        env[f"RESTYLE_{k.upper()}"] = v if isinstance(v, str) else json.dumps(v)
    return launch(
        port, data_dir, env, log_path=tmp / f"server-{port}.log", wait_s=wait_s, own_session=own_session
    )


def launch(
    port: int,
    data_dir: Path,
    env: dict[str, str],
    *,
    log_path: Path,
    wait_s: float = 30.0,
    own_session: bool = False,
) -> Server:
    """Run ``restyle serve`` on ``port`` and ``data_dir`` with the RESTYLE_* ``env`` (over os.environ, without
    an HTTP proxy); return once /healthz answers, or stop it and raise with the log's tail."""
    full_env = {**os.environ, **env}
    full_env.pop("HTTP_PROXY", None)
    full_env.pop("http_proxy", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "restyle", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(log_path.parent),
            start_new_session=own_session,
        )
    server = Server(port, data_dir, proc, log_path, env=env)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()[-5000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become healthy:\n{server.log()[-5000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared server with default settings (plus a loopback URL allow-list)."""
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[object]:
    """Factory for servers with custom settings; all are stopped at the end of the test."""
    started: list[Server] = []

    def factory(**settings: object) -> Server:
        srv = start_server(tmp_path, **settings)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def images() -> Iterator[Host]:
    """Loopback image host (127.0.0.1 is on the test servers' URL allow-list)."""
    yield from serving(Host("127.0.0.1"))


# --- images ---------------------------------------------------------------------------------------
def photo(name: str = "astronaut", size: tuple[int, int] | None = (256, 256)) -> np.ndarray:
    """A real photo from scikit-image, RGB uint8, optionally resized to (width, height)."""
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = np.ascontiguousarray(img[:, :, :3])
    if size is not None:
        img = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS))
    return img


def encode(img: np.ndarray, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt, **kw)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    return encode(photo("astronaut", (320, 320)))


def assert_thread_safe(work: Callable[[], np.ndarray], *, calls: int = 16, threads: int = 4) -> None:
    """``work()`` run ``calls`` times on ``threads`` threads at once answers what it answers alone."""
    expected = work()
    with ThreadPoolExecutor(threads) as pool:
        outs = list(pool.map(lambda _: work(), range(calls)))
    assert all(np.array_equal(o, expected) for o in outs)


def have(binary: str) -> bool:
    return shutil.which(binary) is not None
