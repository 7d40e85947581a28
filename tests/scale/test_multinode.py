"""Two API nodes sharing Redis admission and S3 results, as real processes on loopback."""

from __future__ import annotations

import base64
import io
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image

from tests.api.test_admission import GatedImageServer, call, client, gated, wait_for
from tests.conftest import Server, encode, photo
from tests.scale.backends import RedisServer, S3Server

__all__ = ["gated"]
pytestmark = pytest.mark.restyle_only
TTL_S = 2.0


def redis_nodes(make_server: object, redis_server: RedisServer, n: int = 2, **extra: object) -> list[Server]:
    settings = {
        "limiter": "redis",
        "redis_url": redis_server.url,
        "redis_prefix": f"t{uuid.uuid4().hex[:8]}:",
        "lease_ttl_s": TTL_S,
        "requests_per_second": 1000,
        **extra,
    }
    return [make_server(**settings) for _ in range(n)]  # type: ignore[operator]


def redis_ms(r: redis.Redis) -> int:
    """Redis's clock in ms (lease scores are expiry times on that clock)."""
    sec, usec = r.time()
    return int(sec) * 1000 + int(usec) // 1000


def small_image() -> dict[str, object]:
    return {"InputImage": base64.b64encode(encode(photo("coffee", (160, 120)))).decode(), "LogoAdd": 0}


def test_twelve_calls_on_two_nodes_three_run(
    make_server: object, redis_server: RedisServer, gated: GatedImageServer
) -> None:
    nodes = redis_nodes(make_server, redis_server)
    clients = [client(n, n.secret_id, n.secret_key) for n in nodes]
    params = {"InputUrl": gated.url, "Styles": ["201"], "ResultConfig": {"Resolution": "768:768"}}
    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(call, clients[i % 2], params) for i in range(12)]
        wait_for(lambda: sum(1 for f in futures if f.done()) >= 9)
        early = [f.result()[0] for f in futures if f.done()]
        assert early == ["RequestLimitExceeded.JobNumExceed"] * 9
        wait_for(lambda: gated.arrived == 3)
        gated.release()
        codes = sorted(f.result(timeout=30)[0] for f in futures)
    assert codes.count("OK") == 3, codes
    assert codes.count("RequestLimitExceeded.JobNumExceed") == 9, codes
    assert call(clients[1], small_image())[0] == "OK"  # all slots came back


def test_killed_node_slots_come_back_within_ttl(
    make_server: object, redis_server: RedisServer, gated: GatedImageServer
) -> None:
    a, b = redis_nodes(make_server, redis_server)
    ca, cb = client(a, a.secret_id, a.secret_key), client(b, b.secret_id, b.secret_key)
    params = {"InputUrl": gated.url, "Styles": ["201"]}
    with ThreadPoolExecutor(3) as pool:
        busy = [pool.submit(call, ca, params) for _ in range(3)]
        wait_for(lambda: gated.arrived == 3)
        # the leases outlive their first TTL (node A renews them): wait for Redis's own clock to pass
        # the first expiry of every lease, then all three must still be live
        leases = f"{a.env['RESTYLE_REDIS_PREFIX']}jobs:default"
        r = redis.Redis.from_url(redis_server.url)
        first_expiry = max(score for _, score in r.zrange(leases, 0, -1, withscores=True))
        wait_for(lambda: redis_ms(r) > first_expiry, timeout=TTL_S + 3)
        assert r.zcount(leases, f"({redis_ms(r)}", "+inf") == 3
        assert call(cb, small_image())[0] == "RequestLimitExceeded.JobNumExceed"
        a.proc.send_signal(signal.SIGKILL)  # kill -9 during its jobs
        a.proc.wait(5)
        # nobody renews the leases now: by Redis's clock each ends within one TTL of the kill
        killed_at = redis_ms(r)
        last_expiry = max(score for _, score in r.zrange(leases, 0, -1, withscores=True))
        assert last_expiry - killed_at <= TTL_S * 1000, (last_expiry, killed_at)
        wait_for(lambda: r.zcount(leases, f"({redis_ms(r)}", "+inf") == 0, timeout=TTL_S + 3)
        r.close()
        assert call(cb, small_image())[0] == "OK"
        assert all(f.result(timeout=10)[0] == "ClientNetworkError" for f in busy)
    gated.release()
    # node B keeps serving, with all three slots
    with ThreadPoolExecutor(3) as pool:
        assert [f.result()[0] for f in [pool.submit(call, cb, small_image()) for _ in range(3)]] == ["OK"] * 3


def test_url_result_outlives_the_node_that_made_it(make_server: object, s3_server: S3Server) -> None:
    node: Server = make_server(**s3_server.settings(), result_ttl_s=120)  # type: ignore[operator]
    c = client(node, node.secret_id, node.secret_key)
    from tencentcloud.aiart.v20221229 import models

    req = models.ImageToImageRequest()
    req.InputImage = base64.b64encode(encode(photo("astronaut", (200, 200)))).decode()
    req.RspImgType = "url"
    url = c.ImageToImage(req).ResultImage
    assert url.startswith(s3_server.endpoint + "/") and "X-Amz-Expires=120" in url
    node.stop()
    assert node.proc.poll() is not None
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (200, 200)


def test_node_refuses_to_start_without_its_backends(tmp_path: Path) -> None:
    from tests.conftest import free_port, start_server

    with pytest.raises(RuntimeError, match="server exited early|did not become healthy"):
        start_server(
            tmp_path, storage="s3", s3_endpoint_url=f"http://127.0.0.1:{free_port()}", s3_create_bucket=True
        )
