"""Workspaces: installing the Slack app (bolt OAuth) and connecting Constant Contact (PKCE)."""

from bot.connect.flow import (
    CALLBACK_PATH,
    Auditor,
    ConnectFlow,
    ConnectionInfo,
    ConnectOutcome,
    ConnectResult,
)
from bot.connect.routes import connect_routes
from bot.connect.slack_install import (
    BOT_SCOPES,
    DatabaseStateStore,
    EncryptedInstallationStore,
    InstalledSlackClients,
    NotInstalled,
    oauth_settings,
    slack_install_routes,
)
from bot.connect.tokens import ConnectedAccounts, StoredTokens

__all__ = [
    "BOT_SCOPES",
    "CALLBACK_PATH",
    "Auditor",
    "ConnectFlow",
    "ConnectOutcome",
    "ConnectResult",
    "ConnectedAccounts",
    "ConnectionInfo",
    "DatabaseStateStore",
    "EncryptedInstallationStore",
    "InstalledSlackClients",
    "NotInstalled",
    "StoredTokens",
    "connect_routes",
    "oauth_settings",
    "slack_install_routes",
]
