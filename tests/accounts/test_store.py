"""SQLite store: keys round-trip, secrets encrypted at rest, status, scopes and quota."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from restyle.accounts.store import Store, load_master_key

pytestmark = pytest.mark.restyle_only


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "restyle.db", load_master_key(tmp_path, None))


def test_key_round_trip_and_secret_not_in_database_file(store: Store, tmp_path: Path) -> None:
    sid, skey = store.create_key("acme")
    rec = store.lookup(sid)
    assert (
        rec is not None
        and rec.secret_key == skey
        and rec.account_id == "acme"
        and rec.may_call("ImageToImage")
    )
    store.close()
    raw = (tmp_path / "restyle.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("restyle.db-*")
    )
    assert sid.encode() in raw
    assert skey.encode() not in raw
    # without the master key the database alone does not open the secrets
    other = Store(tmp_path / "restyle.db", b"\x00" * 32)
    with pytest.raises(InvalidTag):
        other.lookup(sid, use_cache=False)


def test_master_key_file_is_private(tmp_path: Path) -> None:
    load_master_key(tmp_path, None)
    assert (tmp_path / "master.key").stat().st_mode & 0o077 == 0


def test_disable_enable_delete(store: Store) -> None:
    sid, _ = store.create_key("acme")
    assert store.set_key_status(sid, "disabled")
    rec = store.lookup(sid)
    assert rec is not None and rec.status == "disabled"
    assert store.delete_key(sid)
    assert store.lookup(sid) is None
    assert not store.delete_key(sid)


def test_ensure_key_is_idempotent_and_replaces_changed_secret(store: Store) -> None:
    assert store.ensure_key("default", "AKIDx", "one")
    assert not store.ensure_key("default", "AKIDx", "one")
    assert store.ensure_key("default", "AKIDx", "two")
    rec = store.lookup("AKIDx", use_cache=False)
    assert rec is not None and rec.secret_key == "two"


def test_scopes_and_quota(store: Store) -> None:
    sid, _ = store.create_key("acme", actions="TextToImage")
    rec = store.lookup(sid)
    assert rec is not None and not rec.may_call("ImageToImage")
    store.set_account("acme", quota=2)
    assert store.consume_quota("acme")
    assert store.consume_quota("acme")
    assert not store.consume_quota("acme")
    store.set_account("acme", quota=None)
    assert store.consume_quota("acme")
