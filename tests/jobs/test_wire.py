"""SubmitImageToImageJob / QueryImageToImageJob / CancelImageToImageJob / DeleteImageToImageResult
through the official SDK's CommonClient against a real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from restyle.provenance.verify import inspect
from tests.conftest import Server, encode, photo, start_server
from tests.jobs.conftest import GatedImageServer, Receiver, act, common, error_code, wait_for, wait_state
from tests.wire.conftest import create_key
from tests.wire.sdk import Target, raw_post

pytestmark = pytest.mark.restyle_only


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("jobs"),
        jobs_lease_s=1.5,
        jobs_workers=3,
        callback_backoff_s=0.2,
        requests_per_second=1000,
    )
    yield srv
    srv.stop()


def small(**extra: object) -> dict[str, object]:
    return {
        "InputImage": base64.b64encode(encode(photo("coffee", (160, 120)))).decode(),
        "LogoAdd": 0,
        **extra,
    }


def test_submit_query_fetch(server: Server) -> None:
    cli = common(server)
    t0 = time.perf_counter()
    job_id = act(cli, "SubmitImageToImageJob", small(Styles=["133"], Strength=0.7))["JobId"]
    assert time.perf_counter() - t0 < 5
    done = wait_state(cli, job_id, ("5", "4"))
    assert done["JobStatusCode"] == "5", done
    assert done["JobStatusMsg"] == "处理完成"
    assert done["JobErrorCode"] == "" and done["ResultDetails"] == ["Success"]
    assert done["Progress"] == 100 and done["QueuePosition"] == 0
    eff = done["EffectiveParameters"]
    assert eff["Style"] == "133" and eff["Engine"] == "classic" and eff["Strength"] == 0.7
    assert eff["Resolution"] == "160x120" and isinstance(eff["Seed"], int)
    (url,) = done["ResultImage"]
    img = httpx.get(url, timeout=10)
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(img.content)).size == (160, 120)
    # provenance inside the file: C2PA manifest and AIGC label naming this job
    report = inspect(img.content)
    assert report.ok, report.problems
    assert report.aigc is not None and report.aigc["ProduceID"] == job_id
    assert report.effective == eff
    # the link is signed: a changed signature is refused
    assert httpx.get(url.replace("Signature=", "Signature=0"), timeout=10).status_code == 403


def test_bad_parameters_fail_at_submit(server: Server) -> None:
    cli = common(server)
    assert error_code(cli, "SubmitImageToImageJob", {}) == "InvalidParameterValue.ImageEmpty"
    assert (
        error_code(cli, "SubmitImageToImageJob", small(Strength=3))
        == "InvalidParameterValue.ParameterValueError"
    )
    assert (
        error_code(cli, "SubmitImageToImageJob", small(ResultTtl=59))
        == "InvalidParameterValue.ParameterValueError"
    )
    assert error_code(cli, "SubmitImageToImageJob", small(Bogus=1)) == "UnknownParameter"
    assert error_code(cli, "SubmitImageToImageJob", small(ClientToken="has space")) == (
        "InvalidParameterValue.ParameterValueError"
    )
    assert (
        error_code(cli, "SubmitImageToImageJob", small(CallbackUrl="ftp://x/"))
        == "InvalidParameterValue.UrlIllegal"
    )
    # a private address is refused like an InputUrl (127.0.0.2 is not on the test allow-list)
    assert error_code(cli, "SubmitImageToImageJob", small(CallbackUrl="http://10.1.2.3/h")) == (
        "InvalidParameterValue.UrlIllegal"
    )


def test_unknown_and_foreign_job_ids(server: Server) -> None:
    cli = common(server)
    assert error_code(cli, "QueryImageToImageJob", {"JobId": "nope"}) == "FailedOperation.JobNotExist"
    assert error_code(cli, "QueryImageToImageJob", {}) == "MissingParameter"
    job_id = act(cli, "SubmitImageToImageJob", small())["JobId"]
    sid, skey = create_key(server, account="someone-else")
    other = common(server, sid, skey)
    for action in ("QueryImageToImageJob", "CancelImageToImageJob", "DeleteImageToImageResult"):
        assert error_code(other, action, {"JobId": job_id}) == "FailedOperation.JobNotExist"
    assert wait_state(cli, job_id, ("5",))["JobStatusCode"] == "5"  # untouched by the other account


def test_cancel_waiting_and_running(server: Server, gated: GatedImageServer) -> None:
    sid, skey = create_key(server, account="canceller")
    cli = common(server, sid, skey)
    slow = {"InputUrl": gated.url, "LogoAdd": 0}
    running = [act(cli, "SubmitImageToImageJob", slow)["JobId"] for _ in range(3)]
    wait_for(lambda: gated.arrived == 3)  # three running: the account's limit
    waiting = act(cli, "SubmitImageToImageJob", slow)["JobId"]
    q = act(cli, "QueryImageToImageJob", {"JobId": waiting})
    assert q["JobStatusCode"] == "1" and q["QueuePosition"] == 1, q
    r = act(cli, "QueryImageToImageJob", {"JobId": running[0]})
    assert r["JobStatusCode"] == "2" and 0 <= r["Progress"] < 100, r
    # waiting: cancelled at once
    c = act(cli, "CancelImageToImageJob", {"JobId": waiting})
    assert c["JobStatusCode"] == "4" and c["JobErrorCode"] == "FailedOperation.JobCancelled", c
    # running: at its next step (after the download the gate holds)
    c = act(cli, "CancelImageToImageJob", {"JobId": running[0]})
    assert c["JobStatusCode"] == "2"
    gated.release()
    end = wait_state(cli, running[0], ("4", "5"))
    assert end["JobStatusCode"] == "4" and end["JobErrorCode"] == "FailedOperation.JobCancelled", end
    for job_id in running[1:]:
        assert wait_state(cli, job_id, ("4", "5"))["JobStatusCode"] == "5"
    assert gated.arrived == 3  # the cancelled waiting job never started


def test_client_token_is_idempotent_even_racing(server: Server) -> None:
    cli = common(server)
    first = act(cli, "SubmitImageToImageJob", small(ClientToken="tok-1"))["JobId"]
    assert act(cli, "SubmitImageToImageJob", small(ClientToken="tok-1"))["JobId"] == first
    clients = [common(server) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(lambda c: act(c, "SubmitImageToImageJob", small(ClientToken="race-2"))["JobId"], clients)
        )
    assert len(set(ids)) == 1, ids
    # another account's same token is its own job
    sid, skey = create_key(server, account="token-peer")
    assert (
        act(common(server, sid, skey), "SubmitImageToImageJob", small(ClientToken="tok-1"))["JobId"] != first
    )
    assert wait_state(cli, ids[0], ("5",))["JobStatusCode"] == "5"


def _verify(secret_key: str, body: bytes, header: str) -> bool:
    """Written from the README, without restyle's code."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret_key.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def test_callback_delivered_signed_and_retried(server: Server, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]  # two failures, then delivered
    cli = common(server)
    job_id = act(cli, "SubmitImageToImageJob", small(CallbackUrl=receiver.url))["JobId"]
    wait_for(lambda: len(receiver.received) >= 3, timeout=20)
    got = receiver.received[-1]
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-restyle-job-id"] == job_id
    assert _verify(server.secret_key, got.body, got.headers["x-restyle-signature"])
    assert not _verify("wrong" + server.secret_key, got.body, got.headers["x-restyle-signature"])
    body = json.loads(got.body)["Response"]
    assert body["JobId"] == job_id and body["JobStatusCode"] == "5" and body["ResultImage"]
    assert httpx.get(body["ResultImage"][0], timeout=10).status_code == 200
    time.sleep(0.5)
    assert len(receiver.received) == 3  # delivered once, not again


def test_result_ttl_and_delete(server: Server) -> None:
    cli = common(server)
    job_id = act(cli, "SubmitImageToImageJob", small(ResultTtl=60))["JobId"]
    done = wait_state(cli, job_id, ("5",))
    url = done["ResultImage"][0]
    expires = int(url.split("Expires=")[1].split("&")[0])
    assert abs(expires - (time.time() + 60)) < 10, url
    assert done["ResultExpireTime"]
    assert httpx.get(url, timeout=10).status_code == 200
    deleted = act(cli, "DeleteImageToImageResult", {"JobId": job_id})
    assert (
        deleted["JobStatusCode"] == "5"
        and deleted["ResultImage"] == []
        and deleted["ResultDetails"] == ["Deleted"]
    )
    assert httpx.get(url, timeout=10).status_code == 404
    # deletion through Cancel once done
    job2 = act(cli, "SubmitImageToImageJob", small())["JobId"]
    url2 = wait_state(cli, job2, ("5",))["ResultImage"][0]
    assert act(cli, "CancelImageToImageJob", {"JobId": job2})["ResultImage"] == []
    assert httpx.get(url2, timeout=10).status_code == 404


def test_waiting_limit_per_account(tmp_path_factory: pytest.TempPathFactory, gated: GatedImageServer) -> None:
    srv = start_server(tmp_path_factory.mktemp("limit"), jobs_max_waiting=2, requests_per_second=1000)
    try:
        cli = common(srv)
        slow = {"InputUrl": gated.url, "LogoAdd": 0}
        ids = [act(cli, "SubmitImageToImageJob", slow)["JobId"] for _ in range(3)]
        wait_for(lambda: gated.arrived == 3)
        ids += [act(cli, "SubmitImageToImageJob", slow)["JobId"] for _ in range(2)]
        assert error_code(cli, "SubmitImageToImageJob", slow) == "RequestLimitExceeded.JobNumExceed"
        # the synchronous call shares the three slots
        assert error_code(cli, "ImageToImage", small()) == "RequestLimitExceeded.JobNumExceed"
        gated.release()
        for job_id in ids:
            assert wait_state(cli, job_id, ("4", "5"))["JobStatusCode"] == "5"
    finally:
        srv.stop()


def test_sync_call_reports_effective_parameters(server: Server) -> None:
    # the SDK does not show headers: a raw call, signed as the SDK signs
    reply = raw_post(Target(server, server.secret_id, server.secret_key), small(Styles=["201"], Strength=0.5))
    assert reply.status_code == 200 and "ResultImage" in reply.json()["Response"]
    eff = json.loads(reply.headers["x-restyle-effective-parameters"])
    assert eff["Style"] == "201" and eff["Strength"] == 0.5 and eff["Resolution"] == "160x120"
    body = reply.json()["Response"]
    report = inspect(base64.b64decode(body["ResultImage"]))
    assert report.ok and report.aigc is not None and report.aigc["ProduceID"] == body["RequestId"]
    assert report.effective == eff
