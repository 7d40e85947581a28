"""``Server-Timing``: the whole call, each chain step and each pipeline step, so overhead can be located."""

from __future__ import annotations

import base64
import json
import re

import httpx

from tests.conftest import Server, encode, photo


def test_a_call_reports_every_chain_and_pipeline_step(server: Server) -> None:
    image = base64.b64encode(encode(photo("astronaut", (96, 96)), quality=90)).decode()
    body = json.dumps({"InputImage": image, "Styles": ["130"], "LogoAdd": 0}).encode()
    reply = httpx.post(server.url, content=body, headers=server.sign(body), timeout=60)
    assert "Error" not in reply.json()["Response"], reply.text
    timing = dict(re.findall(r"([\w.]+);dur=([0-9.]+)", reply.headers["Server-Timing"]))
    ms = {name: float(value) for name, value in timing.items()}
    chain = {n.removeprefix("chain.") for n in ms if n.startswith("chain.")}
    assert {"limit_body", "verify_signature", "resolve_account", "check_rate"} <= chain
    assert {"acquire_job_slot", "parse_body", "call_provider"} <= chain  # ImageToImage's own steps
    assert "route_action" not in chain  # it only holds the three above
    assert {"decode", "stylize", "encode"} <= set(ms)
    # the pipeline runs inside call_provider, which runs inside the whole call
    assert ms["pipeline"] <= ms["chain.call_provider"] + 0.05 <= ms["total"] + 0.1
    assert ms["stylize"] <= ms["pipeline"]
    assert sum(ms[f"chain.{n}"] for n in chain) <= ms["total"] + 0.1
