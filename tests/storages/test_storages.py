"""Result storages: one contract test over every implementation, plus signed links and the sweep."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from restyle.storages import BaseStorage, LinkSigner
from restyle.storages import local as local_storage
from restyle.storages import memory as memory_storage

pytestmark = pytest.mark.restyle_only
KEY = "abcdefghijklmnopqrstuvwxyz012345.jpg"


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> BaseStorage:
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


def test_link_is_signed_and_expires(storage: BaseStorage) -> None:
    url = storage.url_for(KEY, ttl_s=60, base_url="http://127.0.0.1:9/")
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
    assert storage.sweep(older_than_s=0 if isinstance(storage, memory_storage.Storage) else 50) >= 1
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
