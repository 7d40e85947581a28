"""Fuzz the request side: random JSON shapes into parse_params + check_job, flattened GET/v1
parameters, and random headers and bodies through the ASGI app in-process (bounded example counts).

Only TencentErrors may come out of the parser; the app must always answer HTTP 200 with the JSON
envelope and never ``FailedOperation.InnerError``. Inputs that break that go to the crash corpus.
Nothing here opens a network connection: the app's URL loader is replaced by one that refuses.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from restyle import errors
from restyle.api.shapes import ImageToImageRequest
from restyle.loaders import BaseLoader
from restyle.pipeline.job import ImageRef
from tests.conftest import SECRET_ID, SECRET_KEY, b64, encode, photo
from tests.fuzz.corpus import dumps, only_tencent_errors, parse_and_check, parse_flat, record

N = int(os.environ.get("RESTYLE_FUZZ_EXAMPLES", "600"))
# digits that str.isdigit()/int() accept but are not ASCII (superscript, Arabic-Indic, fullwidth),
# underscores int() allows, and a number past int()'s 4300-digit limit: none may crash a parser
ODD_NUMBERS = ["²", "٣", "１２", "1_0", "۱۷۰۰۰۰۰۰۰۰", " 12 ", "9" * 5000, "+1", "-0"]
KEYS = [
    *ImageToImageRequest.__annotations__,
    "ResultConfig.Resolution",
    "LogoParam.LogoRect.X",
    "Styles.0",
    "Styles.a",
    "Styles.²",
    "Styles.٣",
    "Styles.1_0",
]
NESTED_KEYS = ["Resolution", "LogoUrl", "LogoImage", "LogoRect", "X", "Y", "Width", "Height"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "201",
            "133",
            "1",
            "origin",
            "768:768",
            "url",
            "base64",
            "0",
            "-1",
            "1e309",
            "\udfff",
            *ODD_NUMBERS,
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NESTED_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
SMALL_IMAGE = b64(encode(photo("astronaut", (64, 64))))
# mostly-valid requests with random values per known key: reach deep into check_job
requests = st.fixed_dictionaries(
    {},
    optional={
        "InputImage": st.sampled_from([SMALL_IMAGE, "", "x", "@@", "A" * 10]) | st.text(max_size=20),
        "InputUrl": st.sampled_from(["", "http://", "ftp://x/a", "http://127.0.0.1:1/a.jpg", "http://[::1"])
        | st.text(max_size=30),
        "Prompt": st.text(max_size=300),
        "NegativePrompt": st.text(max_size=300),
        "Styles": st.lists(
            st.sampled_from(["201", "133", "104", "1", "999", "", "2011"]) | st.text(max_size=5), max_size=4
        ),
        "ResultConfig": st.fixed_dictionaries(
            {},
            optional={"Resolution": st.sampled_from(["origin", "768:768", "1:1", ""]) | st.text(max_size=9)},
        ),
        "LogoAdd": st.integers(-(2**64), 2**64) | json_values,
        "LogoParam": st.fixed_dictionaries(
            {},
            optional={
                "LogoUrl": st.text(max_size=20),
                "LogoImage": st.sampled_from([SMALL_IMAGE, "x"]),
                "LogoRect": st.fixed_dictionaries(
                    {},
                    optional={
                        k: st.integers(-(2**40), 2**40) | json_values for k in ("X", "Y", "Width", "Height")
                    },
                ),
            },
        ),
        "Strength": st.floats(allow_nan=True, allow_infinity=True) | json_values,
        "RspImgType": st.sampled_from(["base64", "url", "", "URL"]) | json_values,
        "EnhanceImage": st.integers(-3, 3) | json_values,
        "RestoreFace": st.integers(-3, 9) | json_values,
    },
)
anything = (
    json_values
    | requests
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), json_values, max_size=6)
)


@settings(max_examples=N, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(anything)
def test_parse_and_check_raise_only_tencent_errors(obj: Any) -> None:
    only_tencent_errors(lambda: parse_and_check(obj), dumps(obj), "params.json")


@settings(max_examples=N // 2, deadline=None, database=None)
@given(
    st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=20),
        st.sampled_from(ODD_NUMBERS) | st.text(max_size=20),
        max_size=8,
    )
)
def test_flattened_parameters_raise_only_tencent_errors(flat: dict[str, str]) -> None:
    only_tencent_errors(lambda: parse_flat(flat), dumps(flat), "flat.json")


# --- the ASGI app in-process ---------------------------------------------------------------------------
class RefusingLoader(BaseLoader):
    """The fuzzed app never touches the network."""

    name = "refuse"

    def load(self, ref: ImageRef, *, max_bytes: int, deadline_s: float) -> bytes:
        raise errors.ImageDownloadError("fuzz: downloads are disabled")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from restyle.api.app import create_app
    from restyle.config import Settings
    from restyle.service import build_service, ensure_keys

    data_dir = tmp_path_factory.mktemp("fuzz-app")
    service = build_service(
        Settings(
            data_dir=data_dir,
            storage="memory",
            moderator="wordlist",
            secret_id=SECRET_ID,
            secret_key=SECRET_KEY,
            auth_disabled=True,  # signatures are not fuzzed: random requests reach the parser
            requests_per_second=1e6,
            jobs_per_account=1000,
            job_timeout_s=20,
        )
    )
    ensure_keys(service)
    service.plugins.url_loader = RefusingLoader()
    with TestClient(create_app(service), raise_server_exceptions=True) as tc:
        yield tc
    service.close()


def base_headers() -> dict[str, str]:
    date = time.strftime("%Y-%m-%d", time.gmtime())
    return {
        "Content-Type": "application/json",
        "X-TC-Action": "ImageToImage",
        "X-TC-Version": "2022-12-29",
        "X-TC-Region": "ap-singapore",
        "X-TC-Timestamp": str(int(time.time())),
        "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/aiart/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={'0' * 64}",
    }


header_names = st.sampled_from(
    [
        "Content-Type",
        "X-TC-Action",
        "X-TC-Version",
        "X-TC-Region",
        "X-TC-Timestamp",
        "Authorization",
        "X-TC-Content-SHA256",
        "Host",
        "Content-Encoding",
        "Transfer-Encoding",
        "X-TC-Token",
    ]
)
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
) | st.sampled_from(["²", "¹²³", "1_700_000_000", "9" * 5000])
bodies = (
    requests.map(dumps)
    | anything.map(dumps)
    | st.binary(max_size=300)
    | st.sampled_from(
        [b"", b"{", b"[]", b"null", b'{"InputImage": NaN}', b"\xff\xfe{}", b'{"a":' * 2000, b"1" * 5000]
    )
)


@settings(
    max_examples=N // 3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    drop=st.lists(header_names, max_size=3),
    change=st.dictionaries(header_names, header_values, max_size=3),
    body=bodies,
    form=st.booleans(),
)
def test_app_always_answers_the_envelope(
    client: TestClient, drop: list[str], change: dict[str, str], body: bytes, form: bool
) -> None:
    headers = base_headers()
    for name in drop:
        headers.pop(name, None)
    headers.update(change)
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers = {
        k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "transfer-encoding")
    }
    case = json.dumps({"headers": headers, "body": body.decode("latin-1")}).encode()

    try:
        check_reply(client.post("/", content=body, headers=_bytes(headers)))
    except Exception as exc:
        path = record(case, "http.json")
        raise AssertionError(f"{type(exc).__name__}: {exc} — input saved as {path.name}") from exc


def _bytes(headers: dict[str, str]) -> dict[str, bytes]:
    return {k: v.encode("latin-1") for k, v in headers.items()}


def check_reply(resp: Any) -> None:
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["content-type"] == "application/json"
    payload = resp.json()["Response"]
    assert payload["RequestId"]
    if "Error" in payload:
        assert payload["Error"]["Code"] != "FailedOperation.InnerError", payload
        assert payload["Error"]["Message"]


def replay_http(client: TestClient, path: Path) -> None:
    case = json.loads(path.read_bytes())
    check_reply(
        client.post("/", content=case["body"].encode("latin-1"), headers=_bytes(fresh(case["headers"])))
    )


def fresh(headers: dict[str, str]) -> dict[str, str]:
    """A saved case's timestamp and credential date moved to now, so it reaches the same step again."""
    out = dict(headers)
    now = base_headers()
    if out.get("X-TC-Timestamp", "").isdigit():
        out["X-TC-Timestamp"] = now["X-TC-Timestamp"]
    auth = out.get("Authorization", "")
    if auth.startswith("TC3-HMAC-SHA256 Credential=") and auth.count("/") >= 3:
        cred, _, rest = auth.partition("/")
        _, _, rest = rest.partition("/")
        out["Authorization"] = f"{cred}/{time.strftime('%Y-%m-%d', time.gmtime())}/{rest}"
    return out
