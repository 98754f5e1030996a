from __future__ import annotations

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings


def test_defaults_are_the_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "CC_API_URL", "SLACK_API_URL", "PORT", "CCTAG_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///cctag.db"
    assert settings.cc_api_base() == "https://api.cc.email/v3"
    assert settings.slack_api_base() == "https://slack.com/api/"
    assert settings.cc_auth_base() == "https://authz.constantcontact.com/oauth2/default/v1"
    assert settings.public_url() == "http://localhost:3000"


def test_a_malformed_variable_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_API_URL", "not a url")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("CC_API_URL:")
    assert "\n" not in str(caught.value)


def test_the_approvers_channel_is_a_channel_id_not_a_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCTAG_APPROVERS_CHANNEL", "#approvals")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("CCTAG_APPROVERS_CHANNEL:") and "id" in str(caught.value)
    monkeypatch.setenv("CCTAG_APPROVERS_CHANNEL", "C0APPROVE")
    assert load_settings().cctag_approvers_channel == "C0APPROVE"
    monkeypatch.setenv("CCTAG_APPROVERS_CHANNEL", "")
    assert load_settings().cctag_approvers_channel is None


def test_cli_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "nonsense")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cctag: DATABASE_URL:") and err.count("\n") == 1
