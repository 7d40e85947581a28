"""Contract §10, the admission rows through the SDK: JobNumExceed, RequestTimeout, RequestLimitExceeded.

tests/api/test_admission.py covers slot accounting in depth; these check the codes on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Server
from tests.wire import sdk
from tests.wire.conftest import ImageHost
from tests.wire.media import jpeg
from tests.wire.sdk import Target

pytestmark = pytest.mark.derived_from_docs


def test_busy_account_and_job_timeout(make_server: Callable[..., Server], images: ImageHost) -> None:
    srv = make_server(jobs_per_account=1, job_timeout_s=1.0)
    target = Target(srv, srv.secret_id, srv.secret_key)
    slow = images.add("/limits/slow.jpg", jpeg(96, 96), delay_s=2.5)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(sdk.expect_error, sdk.client(target), {"InputUrl": slow})
        deadline = time.monotonic() + 5
        while "/limits/slow.jpg" not in images.hits and time.monotonic() < deadline:
            time.sleep(0.02)
        t0 = time.monotonic()
        busy = sdk.expect_error(sdk.client(target), {"InputImage": "eA=="})
        assert busy.get_code() == "RequestLimitExceeded.JobNumExceed"
        assert time.monotonic() - t0 < 1.0  # answered at once, before download or decode
        assert running.result(timeout=10).get_code() == "FailedOperation.RequestTimeout"


def test_request_rate_over_the_limit(make_server: Callable[..., Server]) -> None:
    """requests_per_second=0.5 (a burst of 1, then one every 2 s): quick requests after the first are refused."""
    srv = make_server(requests_per_second=0.5)
    target = Target(srv, srv.secret_id, srv.secret_key)
    cli = sdk.client(target)
    codes = []
    for _ in range(4):
        codes.append(sdk.expect_error(cli, {}).get_code())
    assert codes[0] == "InvalidParameterValue.ImageEmpty"
    assert "RequestLimitExceeded" in codes[1:], codes
    assert set(codes) <= {"RequestLimitExceeded", "InvalidParameterValue.ImageEmpty"}, codes
