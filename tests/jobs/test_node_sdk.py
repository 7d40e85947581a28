"""The official Node SDK's CommonClient (tencentcloud-sdk-nodejs-common, pinned in tests/jobs/node/)
calls the job actions unchanged: Submit -> Query until "5" -> fetch the URL, and Tencent error codes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server, encode, photo, start_server

pytestmark = pytest.mark.restyle_only
SCRIPT = Path(__file__).with_name("node") / "jobs.js"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned SDK (scripts/test installs it; installed here when a developer runs pytest alone)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/test installs Debian's nodejs when run as root)")
    done = subprocess.run(
        [str(ROOT / "scripts" / "node-sdk")], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"scripts/node-sdk failed:\n{done.stderr[-3000:]}"
    path = Path(done.stdout.strip().splitlines()[-1])
    pkg = json.loads((path / "tencentcloud-sdk-nodejs-common" / "package.json").read_text())
    pinned = json.loads((SCRIPT.parent / "package.json").read_text())["dependencies"]
    assert pkg["version"] == pinned["tencentcloud-sdk-nodejs-common"]
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("node"), requests_per_second=1000)
    yield srv
    srv.stop()


def test_node_common_client_submit_query_fetch(server: Server, node_modules: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        NODE_PATH=str(node_modules),
        RESTYLE_ENDPOINT=server.endpoint,
        RESTYLE_SECRET_ID=server.secret_id,
        RESTYLE_SECRET_KEY=server.secret_key,
        RESTYLE_IMAGE=base64.b64encode(encode(photo("coffee", (160, 120)))).decode(),
    )
    done = subprocess.run(
        ["node", str(SCRIPT)], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, f"{done.stderr[-3000:]}\nserver log:\n{server.log()[-3000:]}"
    out = json.loads(done.stdout)
    job_id = out["submit"]["JobId"]
    assert job_id and out["submit"]["RequestId"]
    assert out["done"]["JobStatusCode"] == "5", out["done"]
    assert out["done"]["Progress"] == 100 and out["done"]["ResultDetails"] == ["Success"]
    assert out["done"]["EffectiveParameters"]["Style"] == "133"
    assert out["done"]["EffectiveParameters"]["Strength"] == 0.6
    codes = [q["JobStatusCode"] for q in out["queries"]]
    assert codes[-1] == "5" and set(codes) <= {"1", "2", "5"}, codes
    assert out["fetched"] == {
        "status": 200,
        "contentType": "image/jpeg",
        "bytes": out["fetched"]["bytes"],
        "jpeg": True,
    }
    assert out["fetched"]["bytes"] > 1000
    # errors reach the Node caller as Tencent codes with the request id
    assert out["unknownJob"]["code"] == "FailedOperation.JobNotExist" and out["unknownJob"]["requestId"]
    assert out["badStrength"]["code"] == "InvalidParameterValue.ParameterValueError"
    assert "Strength" in out["badStrength"]["message"]
