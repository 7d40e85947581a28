"""Contract §10, the image moderation rows, with a fake moderator plugin chosen by configuration."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.conftest import ROOT, Server
from tests.wire import sdk
from tests.wire.fake_moderator import REFUSE_INPUT_WIDTH, REFUSE_OUTPUT_WIDTH
from tests.wire.media import jpeg_b64, result_jpeg
from tests.wire.sdk import Target

pytestmark = pytest.mark.restyle_only


@pytest.fixture
def moderated(make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch) -> Target:
    # the server process imports the plugin from tests/ (keep whatever PYTHONPATH already says)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    )
    srv = make_server(moderator="tests.wire.fake_moderator:Moderator")
    return Target(srv, srv.secret_id, srv.secret_key)


def test_image_moderation_stages(moderated: Target) -> None:
    cli = sdk.client(moderated)
    err = sdk.expect_error(cli, {"InputImage": jpeg_b64(REFUSE_INPUT_WIDTH, 96)})
    assert err.get_code() == "OperationDenied.ImageIllegalDetected"
    err = sdk.expect_error(cli, {"InputImage": jpeg_b64(REFUSE_OUTPUT_WIDTH, 96)})
    assert err.get_code() == "FailedOperation.GenerateImageFailed"
    ok = sdk.call(cli, {"InputImage": jpeg_b64(75, 96), "LogoAdd": 0})
    assert result_jpeg(ok.ResultImage).size == (75, 96)
