"""Operations on a real node: /metrics, /healthz and /readyz, JSON logs with RequestId, SIGTERM drain."""

from __future__ import annotations

import base64
import json
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import restyle
from tests.api.test_admission import GatedImageServer, call, client, gated, wait_for
from tests.conftest import Server, encode, photo
from tests.scale.backends import RedisServer

__all__ = ["gated"]
pytestmark = pytest.mark.restyle_only


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:]+)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return 0.0


def small_image(**extra: object) -> dict[str, object]:
    return {"InputImage": base64.b64encode(encode(photo("coffee", (160, 120)))).decode(), **extra}


def test_metrics_health_and_readiness(make_server: object, redis_server: RedisServer) -> None:
    server: Server = make_server(limiter="redis", redis_url=redis_server.url, redis_prefix="ops1:")  # type: ignore[operator]
    c = client(server, server.secret_id, server.secret_key)
    assert call(c, small_image())[0] == "OK"
    assert call(c, small_image(Styles=["133"], RspImgType="url"))[0] == "OK"
    assert call(c, {"InputImage": "bm90IGFuIGltYWdl"})[0] == "FailedOperation.ImageDecodeFailed"
    r = httpx.get(f"{server.url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert metric(text, "restyle_requests_total", action="ImageToImage", code="OK") == 2
    assert metric(text, "restyle_requests_total", code="FailedOperation.ImageDecodeFailed") == 1
    assert metric(text, "restyle_job_seconds_count", style="201") == 1
    assert metric(text, "restyle_job_seconds_count", style="133") == 1
    assert metric(text, "restyle_result_bytes_count", rsp_img_type="base64") == 1
    assert metric(text, "restyle_result_bytes_count", rsp_img_type="url") == 1
    assert metric(text, "restyle_result_bytes_sum") > 1000
    for gauge in ("restyle_slots_in_use", "restyle_compute_queue_depth", "restyle_inflight_calls"):
        assert f"\n{gauge} 0.0" in text
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "version": restyle.__version__}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"draining": "no", "store": "ok", "limiter": "ok"}


def test_readiness_fails_when_redis_is_gone(make_server: object, tmp_path: object) -> None:
    from tests.scale.backends import start_redis

    own = start_redis(tmp_path)  # type: ignore[arg-type]
    try:
        server: Server = make_server(limiter="redis", redis_url=own.url)  # type: ignore[operator]
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        own.stop()
        r = httpx.get(f"{server.url}/readyz")
        assert r.status_code == 503 and r.json()["checks"]["limiter"].startswith("failed")
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, just not ready
        c = client(server, server.secret_id, server.secret_key)
        assert call(c, small_image())[0] == "FailedOperation.ServerError"
    finally:
        own.stop()


def test_json_logs_carry_the_request_id(make_server: object) -> None:
    server: Server = make_server(log_format="json")  # type: ignore[operator]
    r = httpx.post(
        server.url,
        headers={"X-TC-Action": "ImageToImage", "X-TC-Version": "2022-12-29", "X-TC-Region": "ap-singapore"},
        content=b"{}",
    )
    request_id = r.json()["Response"]["RequestId"]
    wait_for(lambda: request_id in server.log())
    lines = [json.loads(x) for x in server.log().splitlines() if x.startswith("{") and request_id in x]
    assert lines, server.log()
    line = lines[-1]
    assert line["request_id"] == request_id and line["code"] == "AuthFailure.InvalidAuthorization"
    assert line["level"] == "INFO" and line["logger"] == "restyle.api" and "ts" in line


def test_sigterm_drains_running_jobs(make_server: object, gated: GatedImageServer) -> None:
    server: Server = make_server(drain_timeout_s=20)  # type: ignore[operator]
    c = client(server, server.secret_id, server.secret_key)
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(call, c, {"InputUrl": gated.url, "Styles": ["201"]})
        wait_for(lambda: gated.arrived == 1)
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: httpx.get(f"{server.url}/readyz").status_code == 503)
        # a new call during the drain is refused at once with a Tencent answer
        code, elapsed = call(c, small_image())
        assert code == "FailedOperation.ServerError" and elapsed < 2
        assert server.proc.poll() is None  # still waiting for the running job
        gated.release()
        assert running.result(timeout=20)[0] == "OK"  # the running job completed
    server.proc.wait(10)  # ... and then the process exits
    # 128 + SIGTERM: uvicorn re-raises the signal after its graceful shutdown into restyle's own handler
    assert server.proc.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM)
    assert "drained; shutting down" in server.log()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz")


def test_drain_deadline_cuts_off_stuck_jobs_and_gives_back_leases(
    make_server: object, gated: GatedImageServer, redis_server: RedisServer
) -> None:
    from restyle.limiters import redis as redis_limiter

    prefix = "drain:"
    server: Server = make_server(  # type: ignore[operator]
        drain_timeout_s=1, limiter="redis", redis_url=redis_server.url, redis_prefix=prefix, lease_ttl_s=60
    )
    watcher = redis_limiter.Limiter(redis_server.url, prefix=prefix)
    c = client(server, server.secret_id, server.secret_key)
    with ThreadPoolExecutor(1) as pool:
        stuck = pool.submit(call, c, {"InputUrl": gated.url})
        wait_for(lambda: gated.arrived == 1)
        assert watcher.in_use("default") == 1
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code, _ = stuck.result(timeout=10)
        assert code == "FailedOperation.ServerError"
        assert time.monotonic() - t0 < 4
    server.proc.wait(10)
    assert "cutting off 1 call(s)" in server.log()
    # the worker was still blocked on its download, yet the node gave its lease back on the way out
    # (not after the 60 s TTL)
    assert watcher.in_use("default") == 0
    watcher.close()
