"""Wire-suite fixtures: proxy-free environment, a dedicated key on the shared server, loopback image hosts.

Every test under tests/wire must carry exactly one provenance marker (checked at collection).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, start_server
from tests.loopback import Host, Listener, serving
from tests.wire.sdk import PROXY_VARS, Target

PROVENANCE = ("derived_from_docs", "validated_on_tencent", "restyle_only")
WIRE_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each wire test says where its expectation comes from: exactly one provenance marker."""
    for item in items:
        if WIRE_DIR not in Path(str(item.fspath)).resolve().parents:
            continue
        found = [m for m in PROVENANCE if item.get_closest_marker(m) is not None]
        if len(found) != 1:
            raise pytest.UsageError(f"{item.nodeid}: needs exactly one of {PROVENANCE}, has {found}")


@pytest.fixture(scope="session", autouse=True)
def _no_proxy_env() -> Iterator[None]:
    """The SDK and tccli pick an HTTP proxy from the environment for http endpoints (contract §6)."""
    saved = {k: os.environ.pop(k) for k in PROXY_VARS if k in os.environ}
    yield
    os.environ.update(saved)


def create_key(server: Server, *, account: str, actions: str = "*") -> tuple[str, str]:
    """``restyle keys create`` against the server's data dir; returns (SecretId, SecretKey)."""
    out = server.restyle("keys", "create", "--account", account, "--actions", actions)
    assert out.returncode == 0, out.stderr
    pair = json.loads(out.stdout)
    return pair["SecretId"], pair["SecretKey"]


@pytest.fixture(scope="session")
def wire(server: Server) -> Target:
    """The shared server with a key of its own account, so the suite's request rate is its own."""
    sid, skey = create_key(server, account="wire-suite")
    return Target(server, sid, skey)


@pytest.fixture(scope="session")
def aux_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server for settings the shared one cannot have: short result TTL and download budget."""
    srv = start_server(tmp_path_factory.mktemp("aux"), result_ttl_s=2, download_timeout_s=1.0)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def aux(aux_server: Server) -> Target:
    return Target(aux_server, aux_server.secret_id, aux_server.secret_key)


# --- loopback HTTP hosts --------------------------------------------------------------------------
#: the wire suite's names for the shared loopback peers
ImageHost = Host
Sink = Listener


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    """A listener on 127.0.0.2 (loopback, but not on the allow-list) that counts connection attempts."""
    yield from serving(Listener("127.0.0.2"))
