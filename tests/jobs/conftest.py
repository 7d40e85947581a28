"""Async-job fixtures: real servers (subprocesses) on loopback, a gate that holds jobs 'running',
the official SDK's CommonClient, and a loopback callback receiver."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
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
from tests.conftest import Server, free_port, launch
from tests.loopback import QuietHandler, close_http, serve_http
from tests.scale.backends import RedisServer, redis_server

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

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.received.append(Received(body, {k.lower(): v for k, v in self.headers.items()}))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = serve_http(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def json(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.received[i].body)
        return out

    def close(self) -> None:
        close_http(self.httpd)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


__all__ += ["GatedImageServer"]


def kill_9(server: Server) -> None:
    """``kill -9`` the node: no shutdown code of its own runs."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(5)


def redis_nodes(redis: RedisServer, **settings: object) -> dict[str, object]:
    """Settings for nodes that share one Redis queue and limiter (under a fresh key prefix), with short
    leases so a dead node's work is taken over quickly."""
    return {
        "jobs_queue": "redis",
        "limiter": "redis",
        "redis_url": redis.url,
        "redis_prefix": f"t{uuid.uuid4().hex[:8]}:",
        "lease_ttl_s": 2.0,
        "jobs_lease_s": 1.0,
        "requests_per_second": 1000,
        **settings,
    }


def restart(server: Server, **extra_env: str) -> Server:
    """Start a new server process on the same data dir (the old one was killed); wait until healthy."""
    port = free_port()
    log_path = server.log_path.with_name(f"server-{port}.log")
    new = launch(port, server.data_dir, {**server.env, **extra_env}, log_path=log_path)
    new.env = server.env
    return new
