"""Admission: 3 concurrent jobs per account (JobNumExceed beyond, answered at once) and request rate."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from tests.conftest import Server, encode, photo
from tests.loopback import QuietHandler, close_http, serve_http

pytestmark = pytest.mark.derived_from_docs


class GatedImageServer:
    """Loopback HTTP server whose image responses wait until ``release()`` (a job that is 'running')."""

    def __init__(self, body: bytes) -> None:
        self.gate = threading.Event()
        self.arrived = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with outer.lock:
                    outer.arrived += 1
                outer.gate.wait(20)
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the job gave up (timeout test)

        self.httpd = serve_http(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/photo.jpg"

    def release(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.set()
        close_http(self.httpd)


@pytest.fixture
def gated() -> Iterator[GatedImageServer]:
    srv = GatedImageServer(encode(photo("astronaut", (200, 200))))
    yield srv
    srv.close()


def client(server: Server, secret_id: str, secret_key: str) -> aiart_client.AiartClient:
    hp = HttpProfile(endpoint=server.endpoint, protocol="http", reqTimeout=60)
    return aiart_client.AiartClient(
        credential.Credential(secret_id, secret_key), "ap-singapore", ClientProfile(httpProfile=hp)
    )


def call(c: aiart_client.AiartClient, params: dict[str, object]) -> tuple[str, float]:
    req = models.ImageToImageRequest()
    req.from_json_string(json.dumps(params))
    t0 = time.perf_counter()
    try:
        c.ImageToImage(req)
        return "OK", time.perf_counter() - t0
    except TencentCloudSDKException as exc:
        return str(exc.get_code()), time.perf_counter() - t0


def wait_for(cond: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_ten_calls_three_run_seven_rejected(make_server: object, gated: GatedImageServer) -> None:
    server: Server = make_server()  # type: ignore[operator]
    c = client(server, server.secret_id, server.secret_key)
    params = {"InputUrl": gated.url, "Styles": ["201"], "ResultConfig": {"Resolution": "768:768"}}
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(call, c, params) for _ in range(10)]
        # the 7 rejections come back while the 3 admitted jobs are still blocked on their download
        wait_for(lambda: sum(1 for f in futures if f.done()) >= 7)
        early = [f.result() for f in futures if f.done()]
        assert [code for code, _ in early] == ["RequestLimitExceeded.JobNumExceed"] * 7
        wait_for(lambda: gated.arrived == 3)
        gated.release()
        outcomes = [f.result(timeout=30) for f in futures]
    codes = sorted(code for code, _ in outcomes)
    assert codes.count("OK") == 3, codes
    assert codes.count("RequestLimitExceeded.JobNumExceed") == 7, codes
    # a new call succeeds once they have finished
    assert call(c, params)[0] == "OK"


def test_accounts_do_not_share_slots(make_server: object, gated: GatedImageServer) -> None:
    server: Server = make_server()  # type: ignore[operator]
    out = server.restyle("keys", "create", "--account", "other")
    assert out.returncode == 0, out.stderr
    other = json.loads(out.stdout)
    a = client(server, server.secret_id, server.secret_key)
    b = client(server, other["SecretId"], other["SecretKey"])
    params = {"InputUrl": gated.url, "Styles": ["201"], "ResultConfig": {"Resolution": "768:768"}}
    small = {"InputImage": __import__("base64").b64encode(encode(photo("coffee", (160, 120)))).decode()}
    with ThreadPoolExecutor(4) as pool:
        busy = [pool.submit(call, a, params) for _ in range(3)]
        wait_for(lambda: gated.arrived == 3)
        # account A is full; account B still runs at once
        assert call(a, small)[0] == "RequestLimitExceeded.JobNumExceed"
        assert call(b, small)[0] == "OK"
        gated.release()
        assert [f.result(timeout=30)[0] for f in busy] == ["OK"] * 3


def test_slot_released_after_errors_and_timeouts(make_server: object, gated: GatedImageServer) -> None:
    server: Server = make_server(jobs_per_account=1, job_timeout_s=0.5)  # type: ignore[operator]
    c = client(server, server.secret_id, server.secret_key)
    # a job that exceeds its budget answers RequestTimeout and gives its slot back
    code, elapsed = call(c, {"InputUrl": gated.url})
    assert code == "FailedOperation.RequestTimeout"
    # the abandoned worker keeps the slot until it really stops (no over-admission) ...
    assert call(c, {"InputImage": "bm90IGFuIGltYWdl"})[0] == "RequestLimitExceeded.JobNumExceed"
    gated.release()
    # ... and gives it back as soon as it does
    wait_for(lambda: call(c, {"InputImage": "bm90IGFuIGltYWdl"})[0] == "FailedOperation.ImageDecodeFailed")
    # failing jobs give their slot back every time
    for _ in range(3):
        assert call(c, {"InputImage": "bm90IGFuIGltYWdl"})[0] == "FailedOperation.ImageDecodeFailed"


def test_request_rate_limit(make_server: object) -> None:
    server: Server = make_server(requests_per_second=2)  # type: ignore[operator]
    c = client(server, server.secret_id, server.secret_key)
    codes = [call(c, {"InputImage": "bm90IGFuIGltYWdl"})[0] for _ in range(6)]
    assert "RequestLimitExceeded" in codes
    assert codes[0] == "FailedOperation.ImageDecodeFailed"
