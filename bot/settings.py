"""Settings from the environment (the README's Configuration lists them)."""

from __future__ import annotations

import errno
import re
import socket
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_CC_API_URL = "https://api.cc.email/v3"
DEFAULT_CC_AUTH_URL = "https://authz.constantcontact.com/oauth2/default/v1"
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")  # public (C) or older private (G) channels


class SettingsError(Exception):
    """A missing or malformed setting, told in one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_SLACK_API_URL))
    slack_client_id: str | None = None
    slack_client_secret: str | None = None

    cc_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_CC_API_URL))
    cc_access_token: str | None = None
    cc_refresh_token: str | None = None
    cc_client_id: str | None = None
    cc_client_secret: str | None = None
    cc_auth_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_CC_AUTH_URL))

    cctag_public_url: AnyHttpUrl | None = None
    database_url: str = "sqlite:///cctag.db"
    cctag_encryption_key: str | None = None

    # Additions to the contract (documented in the README).
    port: int = Field(default=3000, ge=1, le=65535)
    cctag_rate_per_second: float = Field(default=4.0, gt=0)
    cctag_daily_quota: int = Field(default=10_000, gt=0)
    # The part of the day's quota kept for people waiting (bot/cc/budget.py).
    cctag_interactive_reserve: float = Field(default=0.2, ge=0, lt=1)
    cctag_poll_interval: float = Field(default=5.0, gt=0)
    cctag_poll_in_serve: bool = False
    # How long a poller's claim on an activity outlives the poller if it dies (kill -9).
    cctag_poll_lease_seconds: float = Field(default=30.0, gt=0)
    cctag_activity_max_age_hours: float = Field(default=24.0, gt=0)
    # conversations.replies a minute: 1 for apps created since 2025-05-29 outside the Marketplace.
    cctag_slack_reads_per_minute: int = Field(default=1, ge=1, le=100)
    # Who may delete tags and act on all active contacts (comma lists); workspace admins if unset.
    cctag_admin_users: str | None = None
    cctag_admin_usergroup: str | None = None
    # Channels where the bot acts (comma list of ids); everywhere if unset.
    cctag_allowed_channels: str | None = None
    # Operations (README, "Running in production").
    cctag_log_format: Literal["text", "json"] = "text"
    cctag_metrics_token: str | None = None
    cctag_stop_seconds: float = Field(default=20.0, gt=0, le=3600)
    # Approvals: where requests for an approver go (a channel id; unset: a DM to each admin),
    # the size of a change that needs one, and how long a request waits.
    cctag_approvers_channel: str | None = None
    cctag_approval_over: int = Field(default=5000, ge=0)
    cctag_approval_hours: float = Field(default=24.0, gt=0)
    # How long a change can be undone, in days.
    cctag_undo_days: float = Field(default=7.0, gt=0)

    @field_validator("cctag_approvers_channel")
    @classmethod
    def _a_channel_id(cls, value: str | None) -> str | None:
        # Shown as Slack's channel mention `<#id>`: a name would read as broken markup.
        if value and not CHANNEL_ID.fullmatch(value):
            raise ValueError("must be a channel's id such as C0123ABCD, not its name")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _database_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///cctag.db")
        return value

    @field_validator("cctag_log_format", mode="before")
    @classmethod
    def _log_format_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    def public_url(self) -> str:
        if self.cctag_public_url is not None:
            return str(self.cctag_public_url).rstrip("/")
        return f"http://localhost:{self.port}"

    def cc_api_base(self) -> str:
        return str(self.cc_api_url).rstrip("/")

    def cc_auth_base(self) -> str:
        return str(self.cc_auth_url).rstrip("/")

    def slack_api_base(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


def secrets_of(settings: Settings) -> list[str]:
    """Every value set that must never be written to a log or a metric."""
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.cc_access_token,
        settings.cc_refresh_token,
        settings.cc_client_secret,
        settings.cctag_encryption_key,
        settings.cctag_metrics_token,
        urlsplit(settings.database_url).password,
    ]
    return [value for value in values if value]


def load_settings(**overrides: object) -> Settings:
    """Read the environment; raise SettingsError with one line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name}: {first['msg']}") from None


def require(settings: Settings, *names: str) -> None:
    """Fail start-up when a variable a mode needs is missing."""
    for name in names:
        if not getattr(settings, name.lower()):
            raise SettingsError(f"{name.upper()} is required but not set")


def ensure_port_free(port: int, setting: str, host: str = "0.0.0.0") -> None:
    """Refuse a start whose port another program holds, in one line naming the setting."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        why = "is in use by another program" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise SettingsError(f"{setting}: port {port} {why}; choose another") from None
    finally:
        probe.close()


def refuse_in_memory(database_url: str) -> None:
    """An in-memory SQLite database would lose every activity followed and every connection."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if url.drivername.startswith("sqlite") and memory:
        raise SettingsError(
            "DATABASE_URL: an in-memory SQLite database is lost at exit and not shared between "
            "serve and poll; use a file (sqlite:///cctag.db) or PostgreSQL"
        )
