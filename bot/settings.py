"""Settings from the environment (the README's Configuration lists them)."""

from __future__ import annotations

import errno
import socket

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_CC_API_URL = "https://api.cc.email/v3"
DEFAULT_CC_AUTH_URL = "https://authz.constantcontact.com/oauth2/default/v1"


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
    cctag_poll_interval: float = Field(default=5.0, gt=0)
    cctag_poll_in_serve: bool = False
    # How long a poller's claim on an activity outlives the poller if it dies (kill -9).
    cctag_poll_lease_seconds: float = Field(default=30.0, gt=0)
    cctag_activity_max_age_hours: float = Field(default=24.0, gt=0)
    # Who may delete tags and act on all active contacts (comma lists); workspace admins if unset.
    cctag_admin_users: str | None = None
    cctag_admin_usergroup: str | None = None
    # Channels where the bot acts (comma list of ids); everywhere if unset.
    cctag_allowed_channels: str | None = None
    # How long a change can be undone, in days.
    cctag_undo_days: float = Field(default=7.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _database_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///cctag.db")
        return value

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
