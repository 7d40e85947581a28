"""Async-job fixtures: real servers (subprocesses) on loopback, a gate that holds jobs 'running',
the official SDK's CommonClient, and a loopback callback receiver."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from tests.api.test_admission import GatedImageServer, gated
from tests.conftest import Server
from tests.scale.backends import redis_server

__all__ = ["gated", "redis_server"]
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(scope="session", autouse=True)
def _no_proxy_env() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in PROXY_VARS if k in os.environ}
    yield
    os.environ.update(saved)


def common(server: Server, secret_id: str | None = None, secret_key: str | None = None) -> CommonClient:
    """The generic official client, exactly as a user would build it for a new action."""
    hp = HttpProfile(endpoint=server.endpoint, protocol="http", reqTimeout=30)
    cred = credential.Credential(secret_id or server.secret_id, secret_key or server.secret_key)
    return CommonClient("aiart", "2022-12-29", cred, "ap-singapore", ClientProfile(httpProfile=hp))


def act(cli: CommonClient, action: str, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = cli.call_json(action, params)["Response"]
    assert out["RequestId"]
    return out


def error_code(cli: CommonClient, action: str, params: dict[str, Any]) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        cli.call_json(action, params)
    assert info.value.get_request_id()
    return str(info.value.get_code())


def wait_state(
    cli: CommonClient, job_id: str, states: tuple[str, ...], timeout: float = 30.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = act(cli, "QueryImageToImageJob", {"JobId": job_id})
        if last["JobStatusCode"] in states:
            return last
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states}: {last}")


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A loopback HTTP server that records POSTs; answers ``statuses`` in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.received.append(Received(body, {k.lower(): v for k, v in self.headers.items()}))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def json(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.received[i].body)
        return out

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


__all__ += ["GatedImageServer"]


def restart(server: Server, **extra_env: str) -> Server:
    """Start a new server process on the same data dir (the old one was killed); wait until healthy."""
    import subprocess
    import sys

    import httpx

    from tests.conftest import free_port

    port = free_port()
    env = {**os.environ, **server.env, **extra_env}
    env.pop("HTTP_PROXY", None)
    env.pop("http_proxy", None)
    log_path = server.log_path.with_name(f"server-{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "restyle",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(server.data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(server.data_dir.parent),
        )
    new = Server(port, server.data_dir, proc, log_path, env=server.env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{new.log()[-5000:]}")
        try:
            if httpx.get(f"{new.url}/healthz", timeout=1).status_code == 200:
                return new
        except httpx.HTTPError:
            time.sleep(0.1)
    new.stop()
    raise RuntimeError(f"server did not become healthy:\n{new.log()[-5000:]}")
