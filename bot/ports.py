"""Where a workspace's Constant Contact account and Slack client come from.

Single-workspace mode (CC_ACCESS_TOKEN / SLACK_BOT_TOKEN) answers the same account and client
for every workspace; OAuth installs answer each workspace's own, or None when not connected.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient

from bot.cc.client import AccountClient
from bot.usecases.ports import Accounts

__all__ = ["Accounts", "SingleAccount", "SingleSlack", "SlackClients"]


class SlackClients(Protocol):
    def client_for(self, workspace_id: str) -> WebClient:
        """A Web API client holding the workspace's bot token."""
        ...


class SingleAccount:
    """Every workspace uses one account (the CC_ACCESS_TOKEN mode, the shell, tests)."""

    def __init__(self, client: AccountClient | None) -> None:
        self._client = client

    def client_for(self, workspace_id: str) -> AccountClient | None:
        return self._client


class SingleSlack:
    """Every workspace uses one bot token (the SLACK_BOT_TOKEN mode, the shell, tests)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def client_for(self, workspace_id: str) -> WebClient:
        return self._client
