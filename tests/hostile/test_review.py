"""Issue 11, "Correctness and security": each attack or review finding that once got through, replayed.

In-process (the ASGI app under Starlette's TestClient, or the pipeline with test plugins) where that
reaches the defect; against a real server where only the HTTP server shows it (duplicate Host,
malformed chunked framing). Each test failed before its fix.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from restyle import errors, keyfile
from restyle.api import shapes
from restyle.api.signing import sign_tc3_headers
from restyle.config import Settings
from restyle.engines import BaseEngine, StyleRequest
from restyle.limiters import memory as memory_limiter
from restyle.loaders import http as http_loader
from restyle.moderators import BaseModerator, Stage
from restyle.ops import logs
from restyle.pipeline.job import ImageRef, Job
from restyle.pipeline.run import Plugins, RunLimits, run
from restyle.service import Service, build_service, ensure_keys
from restyle.storages import LinkSigner
from tests.conftest import SECRET_ID, SECRET_KEY, Server, encode, photo
from tests.hostile.conftest import SMALL_JPEG, assert_serves
from tests.loopback import Host
from tests.pipeline import kit

pytestmark = pytest.mark.restyle_only
JPEG_B64 = base64.b64encode(SMALL_JPEG).decode()
RESULT_KEY = "abcdefghijklmnopqrstuvwxyz012345.jpg"


# --- an in-process app -----------------------------------------------------------------------------
@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = build_service(
        Settings(
            data_dir=tmp_path,
            storage="memory",
            moderator="none",
            secret_id=SECRET_ID,
            secret_key=SECRET_KEY,
            requests_per_second=1e6,
            jobs_per_account=3,
            job_timeout_s=30,
        )
    )
    ensure_keys(svc)
    yield svc
    svc.close()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    from restyle.api.app import create_app

    with TestClient(create_app(service), raise_server_exceptions=False) as tc:
        yield tc


def signed(client: TestClient, params: dict[str, Any], **headers: str) -> dict[str, Any]:
    """One signed ImageToImage call; the envelope's Response (HTTP 200 and JSON checked)."""
    body = json.dumps(params).encode()
    hdrs = sign_tc3_headers(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, host="testserver", body=body, timestamp=int(time.time())
    )
    sent = {k: v.encode() for k, v in {**hdrs, **headers}.items()}  # UTF-8 on the wire, as an attacker may
    resp = client.post("/", content=body, headers=sent)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == "application/json"
    payload: dict[str, Any] = resp.json()["Response"]
    return payload


def signed_in_background(
    client: TestClient, params: dict[str, Any]
) -> tuple[threading.Thread, list[dict[str, Any]]]:
    """Start ``signed(client, params)`` on its own thread; its Response lands in the list."""
    replies: list[dict[str, Any]] = []
    caller = threading.Thread(target=lambda: replies.append(signed(client, params)))
    caller.start()
    return caller, replies


def code_of(payload: dict[str, Any]) -> str:
    return str(payload["Error"]["Code"]) if "Error" in payload else "OK"


class GatedEngine(BaseEngine):
    """Identity, but counts calls and (when ``hold`` is set) waits for ``go`` inside the engine."""

    name = "gated"

    def __init__(self) -> None:
        self.calls = 0
        self.hold = False
        self.entered = threading.Event()
        self.go = threading.Event()

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        self.calls += 1
        self.entered.set()
        if self.hold:
            assert self.go.wait(20), "the test never let the engine go"
        return image.copy()


def gate_style_201(service: Service) -> GatedEngine:
    engine = GatedEngine()
    service.plugins.engines[service.plugins.catalogue["201"].engine] = engine
    return engine


# --- 5. the caller's logo is moderated, and fails before any compute ---------------------------------
class WidthModerator(BaseModerator):
    """Refuses any input-stage image exactly REFUSED px wide (the logo in these tests)."""

    name = "width"
    REFUSED = 71

    def check_text(self, fields: dict[str, str]) -> None:
        return None

    def check_image(self, image: np.ndarray, stage: Stage) -> None:
        if image.shape[1] == self.REFUSED:
            msg = f"refused at stage {stage}"
            raise (errors.ImageIllegalDetected if stage == "input" else errors.GenerateImageFailed)(msg)


def logo_job(logo_bytes: bytes) -> tuple[Plugins, GatedEngine, Job]:
    plugs = kit.plugins()
    engine = GatedEngine()
    plugs.engines["identity"] = engine
    plugs.moderator = WidthModerator()
    job = kit.job(SMALL_JPEG, logo_add=1, logo=kit.logo(logo_bytes, 0, 0, 96, 96))
    return plugs, engine, job


def test_refused_logo_covering_the_result_is_refused_before_stylising() -> None:
    """A refused image sent as LogoImage with a LogoRect over the whole result came back as the result."""
    plugs, engine, job = logo_job(encode(photo("astronaut", (WidthModerator.REFUSED, 40)), "PNG"))
    with pytest.raises(errors.ImageIllegalDetected, match="LogoParam"):
        run(job, plugs, RunLimits(), base_url="http://127.0.0.1")
    assert engine.calls == 0


def test_undecodable_logo_fails_before_stylising() -> None:
    plugs, engine, job = logo_job(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(errors.ImageDecodeFailed):
        run(job, plugs, RunLimits(), base_url="http://127.0.0.1")
    assert engine.calls == 0


def test_acceptable_logo_is_pasted() -> None:
    logo = np.full((30, 30, 3), (255, 0, 0), np.uint8)
    plugs, engine, job = logo_job(encode(logo, "PNG"))
    result = run(job, plugs, RunLimits(), base_url="http://127.0.0.1")
    assert engine.calls == 1
    assert "moderate_logo" in result.timings_ms


# --- 6. quota pays for delivered results only --------------------------------------------------------
def test_refused_calls_do_not_use_up_the_quota(client: TestClient, service: Service) -> None:
    service.store.set_account("default", quota=2)
    assert code_of(signed(client, {"InputImage": JPEG_B64, "Styles": ["999"]})) == (
        "InvalidParameterValue.ParameterValueError"
    )
    assert code_of(signed(client, {"InputImage": "@@not base64@@"})) == "FailedOperation.ImageDecodeFailed"
    assert code_of(signed(client, {"InputImage": JPEG_B64, "LogoAdd": 0})) == "OK"
    assert code_of(signed(client, {"InputImage": JPEG_B64, "LogoAdd": 0})) == "OK"
    assert code_of(signed(client, {"InputImage": JPEG_B64, "LogoAdd": 0})) == "ResourceUnavailable.LowBalance"
    rec = service.store.lookup(SECRET_ID, use_cache=False)
    assert rec is not None and rec.quota == 0


# --- 7. store and limiter calls never block the event loop -------------------------------------------
class GatedLimiter(memory_limiter.Limiter):
    """The memory limiter, with a rate check that waits for ``go`` (a slow Redis or SQLite)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.go = threading.Event()

    def check_rate(self, account: str, per_second: float) -> None:
        self.entered.set()
        assert self.go.wait(20), "the test never let the limiter go"
        super().check_rate(account, per_second)


def test_a_stuck_backend_call_does_not_stall_healthz(client: TestClient, service: Service) -> None:
    limiter = GatedLimiter()
    service.limiter = limiter
    caller, replies = signed_in_background(client, {"InputImage": JPEG_B64})
    try:
        assert limiter.entered.wait(10)
        health: list[int] = []
        probe = threading.Thread(target=lambda: health.append(client.get("/healthz").status_code))
        probe.start()
        probe.join(10)  # with the limiter on the event loop, /healthz waits for it: never, here
        assert health == [200], "the event loop was blocked by a backend call"
    finally:
        limiter.go.set()
        caller.join(30)
    assert code_of(replies[0]) == "OK"


# --- 8. secret files are complete or absent; short keys are refused ----------------------------------
def test_empty_link_key_is_refused_not_used(tmp_path: Path) -> None:
    """A node that read links.key while another was still writing it got b"" and accepted forged links."""
    (tmp_path / "links.key").write_bytes(b"")
    with pytest.raises(keyfile.KeyFileError, match="links.key"):
        build_service(Settings(data_dir=tmp_path, storage="memory", moderator="none"))
    with pytest.raises(ValueError, match="at least 32"):
        LinkSigner(b"")


def test_short_master_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_bytes(base64.b64encode(b"k" * 8))
    with pytest.raises(keyfile.KeyFileError, match="master.key"):
        build_service(Settings(data_dir=tmp_path, storage="memory", moderator="none"))


def test_racing_creators_all_read_one_complete_key(tmp_path: Path) -> None:
    path = tmp_path / "links.key"
    start = threading.Barrier(16)
    keys: list[bytes] = []

    def node() -> None:
        start.wait()
        keys.append(keyfile.read_or_create(path, 32))

    threads = [threading.Thread(target=node) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(keys) == 16 and len(set(keys)) == 1 and len(keys[0]) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["links.key"]  # no temp files left behind


# --- 9. malformed result links are 403; ASCII-only numbers ------------------------------------------
@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        ("²", "0" * 64),
        ("9" * 5000, "0" * 64),
        ("{now}", "é" * 64),
        ("{now}", "０" * 64),
        ("{now}", ""),
        ("", "0" * 64),
        ("١٧٠٠٠٠٠٠٠٠", "0" * 64),
        ("+{now}", "{sig}"),
        (" {now}", "{sig}"),
        ("{now}", "{sig_upper}"),
    ],
)
def test_malformed_result_links_are_403(
    client: TestClient, service: Service, expires: str, signature: str
) -> None:
    service.plugins.storage.put(RESULT_KEY, b"\xff\xd8 jpeg", "image/jpeg")
    now = str(int(time.time()) + 60)
    sig = service.signer.signature(RESULT_KEY, int(now))
    query = {
        "Expires": expires.format(now=now),
        "Signature": signature.format(sig=sig, sig_upper=sig.upper()),
    }
    resp = client.get(f"/results/{RESULT_KEY}", params=query)
    assert resp.status_code == 403, resp.text[:200]
    good = client.get(f"/results/{RESULT_KEY}", params={"Expires": now, "Signature": sig})
    assert good.status_code == 200


def test_result_cache_lifetime_never_outlives_the_link(client: TestClient, service: Service) -> None:
    service.plugins.storage.put(RESULT_KEY, b"\xff\xd8 jpeg", "image/jpeg")
    expires = int(time.time()) + 100
    resp = client.get(
        f"/results/{RESULT_KEY}",
        params={"Expires": str(expires), "Signature": service.signer.signature(RESULT_KEY, expires)},
    )
    assert resp.status_code == 200
    max_age = int(re.fullmatch(r"private, max-age=(\d+)", resp.headers["cache-control"]).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= 100


def test_expired_link_signed_with_the_servers_own_key_is_403(client: TestClient, service: Service) -> None:
    """Expiry without waiting: a correctly signed link whose Expires has passed."""
    service.plugins.storage.put(RESULT_KEY, b"\xff\xd8 jpeg", "image/jpeg")
    past = int(time.time()) - 1
    resp = client.get(
        f"/results/{RESULT_KEY}",
        params={"Expires": str(past), "Signature": service.signer.signature(RESULT_KEY, past)},
    )
    assert resp.status_code == 403


@pytest.mark.parametrize("key", ["Styles.²", "Styles.٣", "LogoParam.LogoRect.X"])
def test_non_ascii_digits_in_flattened_parameters_are_parameter_errors(key: str) -> None:
    flat = {key: "²" if key.endswith("X") else "201"}
    with pytest.raises(errors.TencentError):
        shapes.parse_params(shapes.unflatten(flat), from_strings=True)


def test_non_ascii_digits_are_not_numbers() -> None:
    """``int("٣")`` is 3 and ``int("1_0")`` is 10: neither is a number on the wire."""
    assert shapes.parse_params({"RestoreFace": "3"}, from_strings=True) == {"RestoreFace": 3}
    for text in ("٣", "1_0", "１", "²", "9" * 5000, "nan", "1e5"):
        with pytest.raises(errors.InvalidParameterType):
            shapes.parse_params({"RestoreFace": text}, from_strings=True)
    for text in ("nan", "inf", "1_0", "٣"):
        with pytest.raises(errors.InvalidParameterType):
            shapes.parse_params({"Strength": text}, from_strings=True)


@pytest.mark.parametrize("stamp", ["١٧٠٠٠٠٠٠٠٠", "1_700_000_000", "9" * 5000, "²"])
def test_odd_timestamps_are_parameter_errors(client: TestClient, stamp: str) -> None:
    payload = signed(client, {"InputImage": JPEG_B64}, **{"X-TC-Timestamp": stamp})
    assert code_of(payload) == "InvalidParameter.InvalidParameter"
    assert len(payload["Error"]["Message"]) < 120


# --- 10. one Host header only ------------------------------------------------------------------------
def raw(server: Server, request: bytes, *, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_two_host_headers_are_a_400(hostile: Server) -> None:
    """The signature used the last Host and the result link the first: a link on the attacker's host."""
    body = json.dumps({"InputImage": JPEG_B64, "RspImgType": "url"}).encode()
    headers = hostile.sign(body)
    lines = [b"POST / HTTP/1.1", b"Host: attacker.example", f"Host: {hostile.endpoint}".encode()]
    lines += [f"{k}: {v}".encode() for k, v in headers.items() if k.lower() != "host"]
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    reply = raw(hostile, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert b"attacker.example" not in reply
    assert_serves(hostile)


# --- 11. no credentials in answers or logs -----------------------------------------------------------
def test_redact_hides_url_passwords() -> None:
    assert logs.redact("redis://:hunter2@10.0.0.7:6379/0 down") == "redis://:***@10.0.0.7:6379/0 down"
    assert logs.redact("rediss://user:p%40ss@h/1") == "rediss://user:***@h/1"
    assert logs.redact("http://example.com/a@b") == "http://example.com/a@b"


def test_every_log_line_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(logs.RequestIdFilter())
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "connect %s failed", ("redis://u:hunter2@h",), None
    )
    assert handler.filter(record)
    assert "hunter2" not in record.getMessage()
    try:
        raise ConnectionError("redis://:hunter2@h:1 refused")
    except ConnectionError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "x", (), sys.exc_info())
    assert handler.filter(record)
    assert "hunter2" not in logging.Formatter().format(record)
    assert "hunter2" not in logs.JsonFormatter().format(record)


class BrokenProbe:
    def ready(self) -> None:
        msg = "Error connecting to redis://:hunter2@10.1.2.3:6379/0: Connection refused."
        raise ConnectionError(msg)


def test_readyz_names_the_failure_without_its_text(client: TestClient, service: Service) -> None:
    service.plugins.storage = BrokenProbe()  # type: ignore[assignment]
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["storage"] == "failed: ConnectionError"
    assert "hunter2" not in resp.text and "10.1.2.3" not in resp.text


# --- 12. no echo amplification ------------------------------------------------------------------------
BIG = "9" * 200_000


@pytest.mark.parametrize(
    "params",
    [
        {"InputImage": JPEG_B64, "ResultConfig": {"Resolution": BIG}},
        {"InputImage": JPEG_B64, "RspImgType": BIG},
        {"InputImage": JPEG_B64, "Styles": [BIG]},
        {"InputImage": JPEG_B64, "Styles": ["101", *[BIG] * 20]},
        {"InputImage": JPEG_B64, "LogoAdd": BIG},
        {"InputUrl": "http://" + "a" * 200_000},
        {"InputImage": JPEG_B64, BIG: 1},
    ],
)
def test_error_messages_do_not_grow_with_the_request(client: TestClient, params: dict[str, Any]) -> None:
    payload = signed(client, params)
    assert code_of(payload) != "OK"
    message = payload["Error"]["Message"]
    assert len(message) < 300, message[:400]
    assert "9" * 41 not in message and "a" * 41 not in message


def test_header_values_are_not_echoed_in_full(client: TestClient) -> None:
    for header in ("X-TC-Action", "X-TC-Version", "X-TC-Region"):
        payload = signed(client, {"InputImage": JPEG_B64}, **{header: "Z" * 5000})
        assert len(payload["Error"]["Message"]) < 300, header


# --- 14. smaller items ---------------------------------------------------------------------------------
def test_malformed_chunked_body_is_a_client_error_not_a_traceback(hostile: Server) -> None:
    before = hostile.log()
    head = (
        f"POST / HTTP/1.1\r\nHost: {hostile.endpoint}\r\nContent-Type: application/json\r\n"
        "X-TC-Action: ImageToImage\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    reply = raw(hostile, head + b'5\r\n{"a":\r\nzz-not-a-size\r\n\r\n')
    assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and hostile.log().count("request_id=") == before.count("request_id="):
        time.sleep(0.05)
    new = hostile.log()[len(before) :]
    assert "request_id=" in new, new[-2000:]
    assert "Traceback" not in new and "InnerError" not in new and "ERROR" not in new, new[-3000:]
    assert_serves(hostile)


def test_a_job_leaves_a_row_while_it_runs(client: TestClient, service: Service) -> None:
    """Killed jobs left no trace: the row is written when the job is admitted, marked when it ends."""
    engine = gate_style_201(service)
    engine.hold = True
    caller, replies = signed_in_background(client, {"InputImage": JPEG_B64})
    try:
        assert engine.entered.wait(20)
        rows = service.store.recent_jobs()
        assert [(r[1], r[3]) for r in rows] == [("default", "Running")]
    finally:
        engine.go.set()
        caller.join(30)
    assert code_of(replies[0]) == "OK"
    rows = service.store.recent_jobs()
    assert [(r[0], r[3]) for r in rows] == [(replies[0]["RequestId"], "OK")]
    assert rows[0][2] == "201"


def test_job_rows_are_pruned(service: Service) -> None:
    store = service.store
    store.admit_job(request_id="old", account_id="default", secret_id=SECRET_ID)
    store.admit_job(request_id="new", account_id="default", secret_id=SECRET_ID)
    assert store.prune_jobs(older_than_s=3600, now=time.time() + 1800) == 0
    assert store.prune_jobs(older_than_s=3600, now=time.time() + 7200) == 2
    assert store.recent_jobs() == []


@pytest.fixture
def slow_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """``*.test`` names resolve only when the returned event is set (a resolver that hangs)."""
    release = threading.Event()
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, str) and host.endswith(".test"):
            release.wait(30)
            return real("127.0.0.1", port, *args, **kw)
        return real(host, port, *args, **kw)

    monkeypatch.setattr(http_loader.socket, "getaddrinfo", fake)
    yield release
    release.set()


def test_dns_lookup_is_bound_by_the_download_deadline(slow_dns: threading.Event) -> None:
    loader = http_loader.Loader(allowlist=["127.0.0.1/32"])
    done: list[BaseException] = []

    def fetch() -> None:
        try:
            loader.load(ImageRef(url="http://hang.test/a.jpg"), max_bytes=1 << 20, deadline_s=0.5)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            done.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    worker.join(15)  # before the fix, only the test's release (30 s) ended the lookup
    assert done and isinstance(done[0], errors.ImageDownloadError), done
    assert "time budget" in str(done[0])


def test_every_resolved_address_is_tried(monkeypatch: pytest.MonkeyPatch, images: Host) -> None:
    """A name whose first address does not answer still loads from its second."""
    images.add("/two.jpg", SMALL_JPEG)
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if host == "two.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(http_loader.socket, "getaddrinfo", fake)
    data = http_loader.Loader(allowlist=["127.0.0.0/8"]).load(
        ImageRef(url=f"http://two.test:{images.port}/two.jpg"), max_bytes=1 << 20, deadline_s=5
    )
    assert data == SMALL_JPEG
