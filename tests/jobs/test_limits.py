"""Query/Cancel/Delete are signed calls like any other: they count against the account's request rate
(a caller cannot poll at an unlimited rate), and take no quota (an account out of quota still reads,
cancels and deletes the jobs it paid for)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.conftest import start_server
from tests.jobs.conftest import act, common, error_code
from tests.jobs.test_wire import small

pytestmark = pytest.mark.restyle_only
RATE = 2  # requests per second per account (the bucket holds as many)


def code_of(cli: CommonClient, action: str, params: dict[str, Any]) -> str:
    try:
        act(cli, action, params)
    except TencentCloudSDKException as exc:
        return str(exc.get_code())
    return "OK"


def calm() -> None:
    """Wait until the account's bucket (RATE calls, refilled at RATE per second) is full again."""
    time.sleep(1.1)


def test_query_cancel_delete_are_rate_limited_and_take_no_quota(tmp_path: Path) -> None:
    srv = start_server(tmp_path, requests_per_second=RATE)
    try:
        key = json.loads(srv.restyle("keys", "create", "--account", "poller").stdout)
        cli = common(srv, key["SecretId"], key["SecretKey"])
        job_id = act(cli, "SubmitImageToImageJob", small())["JobId"]
        # polling as fast as it can: after the bucket's two calls, every action is refused
        for action in ("QueryImageToImageJob", "CancelImageToImageJob", "DeleteImageToImageResult"):
            calm()
            codes = [code_of(cli, action, {"JobId": job_id}) for _ in range(6)]
            assert "RequestLimitExceeded" not in codes[:RATE], (action, codes)
            assert codes.count("RequestLimitExceeded") >= 3, (action, codes)
        # another account's rate is its own
        assert (
            error_code(common(srv), "QueryImageToImageJob", {"JobId": "x"}) == "FailedOperation.JobNotExist"
        )

        # quota: a Submit takes one; Query/Cancel/Delete take none and still work at zero
        assert srv.restyle("accounts", "set", "poller", "--quota", "1").returncode == 0
        calm()
        paid = act(cli, "SubmitImageToImageJob", small())["JobId"]
        calm()
        assert error_code(cli, "SubmitImageToImageJob", small()) == "ResourceUnavailable.LowBalance"
        calm()
        assert error_code(cli, "ImageToImage", small()) == "ResourceUnavailable.LowBalance"
        deadline = time.monotonic() + 60
        while True:  # a polite poller: under the rate
            calm()
            end = act(cli, "QueryImageToImageJob", {"JobId": paid})
            if end["JobStatusCode"] in ("4", "5") or time.monotonic() > deadline:
                break
        assert end["JobStatusCode"] == "5" and end["ResultImage"], end
        calm()
        gone = act(cli, "DeleteImageToImageResult", {"JobId": paid})
        assert gone["ResultDetails"] == ["Deleted"]
        calm()
        assert act(cli, "CancelImageToImageJob", {"JobId": paid})["JobStatusCode"] == "5"
    finally:
        srv.stop()
