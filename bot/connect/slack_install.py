"""Installing the Slack app in several workspaces over OAuth (bolt's OAuth flow).

`oauth_settings(...)` gives bolt an installation store and a state store on our database; every
installation (bot and user tokens included) is stored encrypted with TokenCipher.
`InstalledSlackClients` answers each workspace's WebClient from those installations.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry import default_retry_handlers
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.clock import SYSTEM_CLOCK, Clock
from bot.crypto import TokenCipher
from bot.ops.metrics import SlackErrorCounter
from bot.pages import install_failed_page, installed_page
from bot.settings import Settings, SettingsError
from bot.store.installations import InstallationKey, InstallationRepository, StoredInstallation

BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:history",
    "groups:history",
    "users:read",
    "usergroups:read",
    "files:read",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_LIFETIME_SECONDS = 600

_log = logging.getLogger(__name__)


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's InstallationStore on our tables; what is stored is ciphertext."""

    def __init__(
        self, engine: Engine, cipher: TokenCipher, client_id: str, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._repo = InstallationRepository(engine)
        self._cipher = cipher
        self._client_id = client_id
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return _log

    def _key(
        self, enterprise_id: str | None, team_id: str | None, org: bool | None
    ) -> InstallationKey:
        # An org-wide install is found by its enterprise alone, as slack_sdk's stores do.
        return InstallationKey(self._client_id, enterprise_id, None if org else team_id)

    def save(self, installation: Installation) -> None:
        document = {k: _jsonable(v) for k, v in installation.to_dict_for_copying().items()}
        self._repo.add(
            StoredInstallation(
                key=self._key(
                    installation.enterprise_id,
                    installation.team_id,
                    installation.is_enterprise_install,
                ),
                user_id=installation.user_id,
                is_enterprise_install=bool(installation.is_enterprise_install),
                has_bot=installation.bot_token is not None,
                installed_at=self._clock.now(),
                document_enc=self._cipher.encrypt(json.dumps(document)),
            )
        )

    def save_bot(self, bot: Bot) -> None:
        # Called by bolt after a bot token rotation: keep it as a bot-only installation.
        fields = {k: _jsonable(v) for k, v in bot.to_dict().items()}
        self.save(Installation(user_id="", **_installation_args(fields)))

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = self._key(enterprise_id, team_id, is_enterprise_install)
        found = self._load(self._repo.latest_document(key, user_id=user_id))
        if found is not None and (user_id is not None or found.bot_token is None):
            # The installer's own row may predate the latest bot token.
            bot = self.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
            if bot is not None:
                found.bot_token, found.bot_id = bot.bot_token, bot.bot_id
                found.bot_user_id, found.bot_scopes = bot.bot_user_id, bot.bot_scopes
                found.bot_refresh_token = bot.bot_refresh_token
                found.bot_token_expires_at = bot.bot_token_expires_at
        return found

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = self._key(enterprise_id, team_id, is_enterprise_install)
        found = self._load(self._repo.latest_document(key, with_bot=True))
        return found.to_bot() if found is not None else None

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._repo.delete(self._key(enterprise_id, team_id, False), bots_only=True)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._repo.delete(self._key(enterprise_id, team_id, False), user_id=user_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._repo.delete(self._key(enterprise_id, team_id, False))

    def _load(self, document_enc: str | None) -> Installation | None:
        if document_enc is None:
            return None
        fields = json.loads(self._cipher.decrypt(document_enc))
        custom = fields.pop("custom_values", None) or {}
        return Installation(
            user_id=fields.pop("user_id"), custom_values=custom, **_installation_args(fields)
        )


_INSTALLATION_FIELDS = frozenset(inspect.signature(Installation.__init__).parameters) - {"self"}


def _installation_args(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k in _INSTALLATION_FIELDS and k != "user_id"}


class DatabaseStateStore(OAuthStateStore):
    """Slack install states: single use, expiring, stored hashed."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock = SYSTEM_CLOCK,
        expiration_seconds: int = STATE_LIFETIME_SECONDS,
    ) -> None:
        self._repo = InstallationRepository(engine)
        self._clock = clock
        self._lifetime = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return _log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self._clock.now()
        self._repo.add_state(_state_hash(state), now + self._lifetime, now)
        return state

    def consume(self, state: str) -> bool:
        return self._repo.consume_state(_state_hash(state), self._clock.now())


def _installed(args: SuccessArgs) -> BoltResponse:
    team = args.installation.team_name or args.installation.team_id or "your workspace"
    return _html(200, installed_page(team))


def _install_failed(args: FailureArgs) -> BoltResponse:
    return _html(args.suggested_status_code, install_failed_page(args.reason))


def _html(status: int, body: str) -> BoltResponse:
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )


def oauth_settings(
    settings: Settings, engine: Engine, cipher: TokenCipher, clock: Clock = SYSTEM_CLOCK
) -> OAuthSettings:
    """bolt's OAuth settings for installing in many workspaces (SLACK_CLIENT_ID/SECRET)."""
    if not settings.slack_client_id or not settings.slack_client_secret:
        raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are required for installs")
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight to Slack
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=settings.public_url() + REDIRECT_PATH,
        installation_store=EncryptedInstallationStore(
            engine, cipher, settings.slack_client_id, clock
        ),
        installation_store_bot_only=True,
        state_store=DatabaseStateStore(engine, clock),
        state_expiration_seconds=STATE_LIFETIME_SECONDS,
        callback_options=CallbackOptions(success=_installed, failure=_install_failed),
    )


class NotInstalled(LookupError):
    """The app is not installed in this workspace (or was uninstalled)."""


class InstalledSlackClients:
    """bot.ports.SlackClients from the installation store: each workspace's own bot token."""

    def __init__(self, installation_store: InstallationStore, base_url: str) -> None:
        self._store = installation_store
        self._base_url = base_url

    def client_for(self, workspace_id: str) -> WebClient:
        bot = self._store.find_bot(enterprise_id=None, team_id=workspace_id)
        if bot is None:
            raise NotInstalled(f"cctag is not installed in workspace {workspace_id}")
        handlers = [SlackErrorCounter(), *default_retry_handlers()]
        return WebClient(token=bot.bot_token, base_url=self._base_url, retry_handlers=handlers)


def slack_install_routes(bolt_app: App) -> list[Route]:
    """GET /slack/install and /slack/oauth_redirect, served by bolt's OAuth flow.

    Sync endpoints: Starlette runs them in its thread pool (the flow does blocking I/O).
    """
    flow = bolt_app.oauth_flow
    if flow is None:
        raise SettingsError("Slack installs need the app built with oauth_settings(...)")

    def install(request: Request) -> Response:
        return to_starlette_response(flow.handle_installation(to_bolt_request(request, b"")))

    def redirect(request: Request) -> Response:
        return to_starlette_response(flow.handle_callback(to_bolt_request(request, b"")))

    return [
        Route(INSTALL_PATH, install, methods=["GET"]),
        Route(REDIRECT_PATH, redirect, methods=["GET"]),
    ]
