"""Result storages: one contract test over every implementation, plus signed links and the sweep."""

from __future__ import annotations

import contextlib
import datetime
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from restyle.storages import BaseStorage, LinkSigner
from restyle.storages import local as local_storage
from restyle.storages import memory as memory_storage
from tests.scale.backends import S3Server

pytestmark = pytest.mark.restyle_only
KEY = "abcdefghijklmnopqrstuvwxyz012345.jpg"


def make_s3(server: S3Server, **kw: object) -> BaseStorage:
    from restyle.storages import s3 as s3_storage

    return s3_storage.Storage(
        server.bucket,
        prefix=f"t-{uuid.uuid4().hex[:8]}/",
        endpoint_url=server.endpoint,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
        addressing_style="path",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["local", "memory", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> BaseStorage:
    signer = LinkSigner(b"k" * 32)
    if request.param == "local":
        return local_storage.Storage(tmp_path / "results", signer)
    if request.param == "s3":
        return make_s3(request.getfixturevalue("s3_server"))
    return memory_storage.Storage(signer)


@pytest.fixture(params=["local", "memory"])
def signed_storage(request: pytest.FixtureRequest, tmp_path: Path) -> BaseStorage:
    """Storages whose links restyle serves itself (HMAC-signed)."""
    signer = LinkSigner(b"k" * 32)
    if request.param == "local":
        return local_storage.Storage(tmp_path / "results", signer)
    return memory_storage.Storage(signer)


def test_put_get_delete(storage: BaseStorage) -> None:
    storage.put(KEY, b"jpeg bytes", "image/jpeg")
    assert storage.get(KEY) == b"jpeg bytes"
    storage.delete(KEY)
    assert storage.get(KEY) is None
    storage.delete(KEY)  # idempotent


def test_link_is_signed_and_expires(signed_storage: BaseStorage) -> None:
    url = signed_storage.url_for(KEY, ttl_s=60, base_url="http://127.0.0.1:9/")
    assert url.startswith(f"http://127.0.0.1:9/results/{KEY}?Expires=")
    signer = LinkSigner(b"k" * 32)
    expires = url.split("Expires=")[1].split("&")[0]
    sig = url.split("Signature=")[1]
    assert signer.valid(KEY, expires, sig)
    assert not signer.valid(KEY, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not signer.valid(KEY, str(int(expires) + 1), sig)
    assert not signer.valid("other" + KEY, expires, sig)
    assert not signer.valid(KEY, expires, sig, now=int(expires) + 1)
    assert not LinkSigner(b"x" * 32).valid(KEY, expires, sig)


def test_sweep_removes_only_old_results(storage: BaseStorage, tmp_path: Path) -> None:
    storage.put(KEY, b"old", "image/jpeg")
    if isinstance(storage, local_storage.Storage):
        old = time.time() - 100
        os.utime(tmp_path / "results" / KEY, (old, old))
    else:
        time.sleep(0.05)
    fresh = "Z" * 32 + ".jpg"
    assert storage.sweep(older_than_s=50 if isinstance(storage, local_storage.Storage) else 0) >= 1
    storage.put(fresh, b"new", "image/jpeg")
    assert storage.get(KEY) is None
    assert storage.sweep(older_than_s=50) == 0
    assert storage.get(fresh) == b"new"


def test_local_rejects_path_tricks(tmp_path: Path) -> None:
    st = local_storage.Storage(tmp_path / "results", LinkSigner(b"k" * 32))
    for key in ("../etc/passwd", "a/b.jpg", "short.jpg", KEY.replace(".jpg", ".exe")):
        assert st.get(key) is None
        with pytest.raises(KeyError):
            st.put(key, b"x", "image/jpeg")
    st.put(KEY, b"x", "image/jpeg")
    assert [p.name for p in (tmp_path / "results").iterdir()] == [KEY]  # no temp files left behind


@contextlib.contextmanager
def freeze_botocore_clock(at: datetime.datetime) -> Iterator[None]:
    """botocore signs with ``botocore.auth.get_current_datetime()``: make that ``at`` (naive UTC)."""
    import botocore.auth

    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **kw: at.replace(tzinfo=None)
    try:
        yield
    finally:
        botocore.auth.get_current_datetime = real


def test_s3_presigned_link_downloads_and_expires(s3_server: S3Server) -> None:
    st = make_s3(s3_server)
    assert not st.serves_locally
    st.put(KEY, b"\xff\xd8 jpeg bytes", "image/jpeg")
    url = st.url_for(KEY, ttl_s=60, base_url="http://ignored.invalid")
    assert url.startswith(s3_server.endpoint) and "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"\xff\xd8 jpeg bytes"
    assert r.headers["content-type"] == "image/jpeg"
    assert httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403  # the bucket is not public
    # expiry without waiting: presigned 30 s ago for a minute it works, two minutes ago it has expired
    with freeze_botocore_clock(datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=30)):
        recent = st.url_for(KEY, ttl_s=60, base_url="")
    assert httpx.get(recent).status_code == 200
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=2)
    with freeze_botocore_clock(past):
        short = st.url_for(KEY, ttl_s=60, base_url="")
    assert httpx.get(short).status_code == 403
    with pytest.raises(ValueError, match="presigned links live"):
        st.url_for(KEY, ttl_s=8 * 24 * 3600, base_url="")


def test_s3_presign_endpoint_and_ready(s3_server: S3Server) -> None:
    st = make_s3(s3_server, presign_endpoint_url=s3_server.endpoint.replace("127.0.0.1", "localhost"))
    st.put(KEY, b"x", "image/jpeg")
    url = st.url_for(KEY, ttl_s=60, base_url="")
    assert url.startswith(f"http://localhost:{s3_server.port}/")
    assert httpx.get(url).content == b"x"
    st.ready()  # type: ignore[attr-defined]
    missing = make_s3(s3_server)
    missing.bucket = "no-such-bucket-here"  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's 404
        missing.ready()  # type: ignore[attr-defined]


def test_s3_creates_its_bucket(s3_server: S3Server) -> None:
    bucket = f"made-{uuid.uuid4().hex[:8]}"
    from restyle.storages import s3 as s3_storage

    st = s3_storage.Storage(
        bucket,
        endpoint_url=s3_server.endpoint,
        access_key_id=s3_server.access_key,
        secret_access_key=s3_server.secret_key,
        addressing_style="path",
        create_bucket=True,
    )
    st.put(KEY, b"y", "image/png")
    assert st.get(KEY) == b"y"
