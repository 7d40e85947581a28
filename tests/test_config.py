"""Settings: defaults < TOML file < RESTYLE_* environment < explicit overrides; typed and strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from restyle.config import Settings, load_settings

pytestmark = pytest.mark.restyle_only


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("RESTYLE_")]:
        monkeypatch.delenv(key)
    assert load_settings().jobs_per_account == 3
    cfg = tmp_path / "restyle.toml"
    cfg.write_text('jobs_per_account = 5\nregions = ["ap-singapore", "ap-guangzhou"]\nport = 9001\n')
    s = load_settings(cfg)
    assert (s.jobs_per_account, s.regions, s.port) == (5, ["ap-singapore", "ap-guangzhou"], 9001)
    monkeypatch.setenv("RESTYLE_JOBS_PER_ACCOUNT", "7")
    monkeypatch.setenv("RESTYLE_REGIONS", '["ap-shanghai"]')
    s = load_settings(cfg)
    assert (s.jobs_per_account, s.regions, s.port) == (7, ["ap-shanghai"], 9001)
    assert load_settings(cfg, port=9002, jobs_per_account=None).port == 9002
    monkeypatch.setenv("RESTYLE_CONFIG", str(cfg))
    assert load_settings().port == 9001


def test_typed_and_strict(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(jobs_per_account=0)
    with pytest.raises(ValidationError):
        Settings(no_such_option=1)  # type: ignore[call-arg]
    cfg = tmp_path / "bad.toml"
    cfg.write_text("result_ttl_s = 'soon'\n")
    with pytest.raises(ValidationError):
        load_settings(cfg)


def test_missing_file_is_an_error_and_tables_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    cfg = tmp_path / "restyle.toml"
    cfg.write_text('[diffusion_styles.900]\ntemplate = "a {prompt}"\n')
    monkeypatch.setenv("RESTYLE_DIFFUSION_STYLES", '{"901": {"template": "b {prompt}"}}')
    s = load_settings(cfg, host="0.0.0.0", port=None)
    assert sorted(s.diffusion_styles) == ["900", "901"]  # pydantic-settings merges tables of sources
    assert (s.host, s.port) == ("0.0.0.0", 8080)
    assert "900" not in Settings().diffusion_styles  # the TOML file is read by load_settings only
