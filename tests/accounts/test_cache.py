"""The key store's lookup cache is bounded by bytes: unknown SecretIds cannot pin memory (issue 11 #1)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from restyle.accounts.cache import ByteLRU
from restyle.accounts.store import MAX_SECRET_ID_CHARS, Store, load_master_key, valid_secret_id

pytestmark = pytest.mark.restyle_only
MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "restyle.db", load_master_key(tmp_path, None))


def _retained(fn: object) -> int:
    """Bytes still allocated after ``fn()`` returned (garbage collected)."""
    assert callable(fn)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_long_unknown_secret_ids_are_not_kept(store: Store) -> None:
    """50 lookups of distinct 1 MiB SecretIds: nothing of them stays (they were all kept before)."""

    def flood() -> None:
        for i in range(50):
            assert store.lookup(f"AKID{i:04d}" + "x" * MiB) is None

    assert _retained(flood) < 256 * 1024


def test_many_unknown_secret_ids_stay_within_the_miss_budget(store: Store) -> None:
    """20,000 distinct well-formed unknown ids: the cache holds at most its byte budget of misses."""

    def flood() -> None:
        for i in range(20_000):
            assert store.lookup(f"AKID{i:0124d}") is None

    assert _retained(flood) < Store.MISS_CACHE_BYTES + 512 * 1024


def test_misses_do_not_evict_known_keys(store: Store) -> None:
    sid, skey = store.create_key("acme")
    assert store.lookup(sid) is not None
    store._db.execute("UPDATE keys SET account_id = account_id")  # no data_version change: same connection
    for i in range(20_000):
        store.lookup(f"AKID{i:0124d}")
    found, rec = store._hits.get(sid)
    assert found and rec is not None and rec.secret_key == skey


def test_secret_id_shape() -> None:
    assert valid_secret_id("AKID" + "a" * 32)
    assert valid_secret_id("x" * MAX_SECRET_ID_CHARS)
    assert not valid_secret_id("x" * (MAX_SECRET_ID_CHARS + 1))
    assert not valid_secret_id("")
    assert not valid_secret_id("AKID/x")
    assert not valid_secret_id("AKID\u00b2")


def test_keys_with_impossible_ids_cannot_be_created(store: Store) -> None:
    with pytest.raises(ValueError, match="SecretId"):
        store.create_key("acme", secret_id="x" * (MAX_SECRET_ID_CHARS + 1))


def test_byte_lru_counts_bytes_and_expires() -> None:
    now = [0.0]
    lru: ByteLRU[int] = ByteLRU(10_000, ttl_s=5, clock=lambda: now[0])
    for i in range(100):
        lru.put(f"k{i}", i, value_bytes=500)
    assert lru.nbytes <= 10_000
    assert len(lru) < 100
    assert lru.get("k99") == (True, 99)
    assert lru.get("k0") == (False, None)  # evicted, least recently used
    assert not lru.put("big", 1, value_bytes=20_000)  # larger than the whole budget: not stored
    assert lru.get("big") == (False, None)
    now[0] = 5.0
    assert lru.get("k99") == (False, None)  # expired
    lru.clear()
    assert lru.nbytes == 0 and len(lru) == 0
