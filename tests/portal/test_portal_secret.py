"""The key that signs pre-session CSRF tokens: from settings, else generated once into var_dir."""

from __future__ import annotations

import stat

import pytest

from govshare.core.config import reset_settings
from govshare.portal import web


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GOVSHARE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GOVSHARE_SECRET_KEY", raising=False)
    reset_settings()
    yield tmp_path / "var"
    monkeypatch.undo()
    reset_settings()


def test_key_is_generated_once_with_mode_0600(fresh_settings):
    key = web.secret_key()
    path = fresh_settings / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 64 and path.read_bytes().strip() == key
    web._keys.clear()  # a restart reads the same file
    assert web.secret_key() == key
    assert [p.name for p in fresh_settings.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_configured_key_wins_and_no_file_is_written(fresh_settings, monkeypatch):
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", "a-configured-secret-of-enough-length-0123456789")
    reset_settings()
    assert web.secret_key() == b"a-configured-secret-of-enough-length-0123456789"
    assert not (fresh_settings / "secret_key").exists()
    signed = web._presession_token("nonce-1234567890abcdef")
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", "another-secret-of-enough-length-0123456789abcd")
    reset_settings()
    assert web._presession_token("nonce-1234567890abcdef") != signed  # tokens are bound to the key


def test_an_empty_key_file_is_refused(fresh_settings):
    fresh_settings.mkdir(parents=True)
    (fresh_settings / "secret_key").write_text("")
    web._keys.clear()
    with pytest.raises(RuntimeError, match="no usable secret key"):
        web.secret_key()
