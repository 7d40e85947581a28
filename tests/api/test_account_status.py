"""Account status and quota through the official SDK: StopUsing, LowBalance, quota consumption."""

from __future__ import annotations

import json

import pytest

from tests.api.test_admission import call, client
from tests.conftest import Server, b64, encode, photo

pytestmark = pytest.mark.restyle_only


def test_stopped_account_and_quota(make_server: object) -> None:
    server: Server = make_server()  # type: ignore[operator]
    key = json.loads(server.restyle("keys", "create", "--account", "acme").stdout)
    c = client(server, key["SecretId"], key["SecretKey"])
    ok = {"InputImage": b64(encode(photo("coffee", (160, 120)))), "LogoAdd": 0}
    assert call(c, ok)[0] == "OK"

    assert server.restyle("accounts", "set", "acme", "--status", "stopped").returncode == 0
    assert call(c, ok)[0] == "ResourceUnavailable.StopUsing"
    assert server.restyle("accounts", "set", "acme", "--status", "active", "--quota", "1").returncode == 0
    assert call(c, ok)[0] == "OK"
    assert call(c, ok)[0] == "ResourceUnavailable.LowBalance"
    assert server.restyle("accounts", "set", "acme", "--unlimited").returncode == 0
    assert call(c, ok)[0] == "OK"
    # the default account is untouched throughout
    assert call(client(server, server.secret_id, server.secret_key), ok)[0] == "OK"
    assert server.restyle("accounts", "set", "nobody", "--status", "stopped").returncode == 1
