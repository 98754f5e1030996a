"""Who may do what, and where: per-workspace policy with environment defaults.

Broad or destructive actions (deleting tags, acting on all active contacts, connecting or
disconnecting the account, changing the policy) are for the configured Slack users or user
group; when a workspace configures neither, for its admins and owners (users.info). The bot
acts only in the allowed channels when a list is set. Every refusal is told and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.clock import SYSTEM_CLOCK, Clock
from bot.connect.flow import Auditor
from bot.ports import SlackClients
from bot.store.connections import ConnectionRepository, StoredPolicy
from bot.usecases.ports import (
    ALL_ACTIVE,
    CONNECT,
    DELETE_TAGS,
    DISCONNECT,
    PRIVILEGED_ACTIONS,
    SET_POLICY,
    UNDO_ANY,
    Decision,
)

log = logging.getLogger(__name__)
MEMBERS_PAGE = 200  # users.list's page, as Slack recommends
MAX_MEMBER_PAGES = 100  # 20,000 members: past them the admins found so far are the approvers

_WHAT = {
    DELETE_TAGS: "delete tags",
    ALL_ACTIVE: "act on all active contacts",
    CONNECT: "connect a Constant Contact account",
    DISCONNECT: "disconnect the Constant Contact account",
    SET_POLICY: "change who may do what",
    UNDO_ANY: "undo a change someone else asked for",
}


def comma_list(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Policy:
    admin_users: frozenset[str] = frozenset()
    admin_usergroup: str | None = None
    allowed_channels: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        """CCTAG_ADMIN_USERS, CCTAG_ADMIN_USERGROUP, CCTAG_ALLOWED_CHANNELS (comma lists)."""
        return cls(
            comma_list(getattr(settings, "cctag_admin_users", None)),
            getattr(settings, "cctag_admin_usergroup", None) or None,
            comma_list(getattr(settings, "cctag_allowed_channels", None)),
        )

    def overridden_by(self, stored: StoredPolicy | None) -> Policy:
        if stored is None:
            return self
        return Policy(
            comma_list(stored.admin_users) if stored.admin_users is not None else self.admin_users,
            stored.admin_usergroup if stored.admin_usergroup is not None else self.admin_usergroup,
            comma_list(stored.allowed_channels)
            if stored.allowed_channels is not None
            else self.allowed_channels,
        )

    @property
    def admins_by_default(self) -> bool:
        return not self.admin_users and not self.admin_usergroup


ALLOWED = Decision(True)


@dataclass
class _Cached:
    value: bool
    until: float


class Permissions:
    def __init__(
        self,
        policies: ConnectionRepository,
        slack: SlackClients,
        defaults: Policy,
        auditor: Auditor,
        clock: Clock = SYSTEM_CLOCK,
        cache_seconds: float = 300.0,
    ) -> None:
        self._policies = policies
        self._slack = slack
        self._defaults = defaults
        self._auditor = auditor
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[tuple[str, ...], _Cached] = {}

    def policy_for(self, workspace_id: str) -> Policy:
        return self._defaults.overridden_by(self._policies.get_policy(workspace_id))

    def set_policy(
        self,
        workspace_id: str,
        user_id: str,
        *,
        admin_users: Iterable[str] | None = None,
        admin_usergroup: str | None = None,
        allowed_channels: Iterable[str] | None = None,
    ) -> None:
        """Store the workspace's policy; a None field keeps the environment's default."""
        stored = StoredPolicy(
            workspace_id=workspace_id,
            admin_users=None if admin_users is None else ",".join(sorted(admin_users)),
            admin_usergroup=admin_usergroup,
            allowed_channels=None if allowed_channels is None else ",".join(allowed_channels),
            updated_by=user_id,
            updated_at=self._clock.now(),
        )
        self._policies.set_policy(stored)
        self._cache.clear()
        detail = (
            f"users={stored.admin_users} group={admin_usergroup} channels={stored.allowed_channels}"
        )
        self._audit(workspace_id, user_id, SET_POLICY, detail, "changed")

    def check(
        self, workspace_id: str, user_id: str, channel_id: str | None, action: str
    ) -> Decision:
        """May `user_id` do `action` in `channel_id`? A refusal says why and is audited."""
        policy = self.policy_for(workspace_id)
        decision = self._channel_decision(policy, channel_id)
        if decision.allowed and action in PRIVILEGED_ACTIONS:
            decision = self._role_decision(workspace_id, user_id, policy, action)
        if not decision.allowed:
            where = f"in {channel_id}: " if channel_id else ""
            self._audit(workspace_id, user_id, action, where + decision.reason, "refused")
        return decision

    # ------------------------------------------------------------------ the rules
    def _channel_decision(self, policy: Policy, channel_id: str | None) -> Decision:
        if not policy.allowed_channels or channel_id is None:
            return ALLOWED
        if channel_id in policy.allowed_channels:
            return ALLOWED
        channels = ", ".join(f"<#{c}>" for c in sorted(policy.allowed_channels))
        return Decision(False, f"cctag works only in {channels}; this channel is not one of them.")

    def _role_decision(
        self, workspace_id: str, user_id: str, policy: Policy, action: str
    ) -> Decision:
        what = _WHAT.get(action, action)
        try:
            if self._is_privileged(workspace_id, user_id, policy):
                return ALLOWED
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
            return Decision(False, f"Slack did not tell who you are ({error}); try again later.")
        return Decision(False, f"Only {_who(policy)} may {what}.")

    def _is_privileged(self, workspace_id: str, user_id: str, policy: Policy) -> bool:
        if user_id in policy.admin_users:
            return True
        group = policy.admin_usergroup
        if group and self._cached(("group", workspace_id, group, user_id), self._in_group):
            return True
        if policy.admins_by_default:
            return self._cached(("admin", workspace_id, user_id), self._is_admin)
        return False

    # ------------------------------------------------------------------ approvers
    def may_approve(self, workspace_id: str, user_id: str) -> bool:
        """Has the right to delete tags and act on all active contacts, asked afresh (no
        cache: an approval is decided on who has the right now)."""
        policy = self.policy_for(workspace_id)
        try:
            if user_id in policy.admin_users:
                return True
            group = policy.admin_usergroup
            if group and self._in_group(workspace_id, group, user_id):
                return True
            return policy.admins_by_default and self._is_admin(workspace_id, user_id)
        except SlackApiError:
            return False

    def approvers(self, workspace_id: str) -> list[str]:
        """Everyone with the right: the configured users and the group's members, or, when
        neither is set, the workspace's admins and owners from users.list (paged)."""
        policy = self.policy_for(workspace_id)
        found = set(policy.admin_users)
        client = self._slack.client_for(workspace_id)
        try:
            if policy.admin_usergroup:
                found.update(
                    client.usergroups_users_list(usergroup=policy.admin_usergroup)["users"]
                )
            if policy.admins_by_default:
                found.update(self._admins(workspace_id))
        except SlackApiError as exc:
            log.warning("listing the approvers of %s failed: %s", workspace_id, exc.response)
        return sorted(found)

    def _admins(self, workspace_id: str) -> list[str]:
        client = self._slack.client_for(workspace_id)
        admins: list[str] = []
        cursor = ""
        for _ in range(MAX_MEMBER_PAGES):
            page = client.users_list(limit=MEMBERS_PAGE, cursor=cursor or None)
            for member in page.get("members") or []:
                if member.get("deleted") or member.get("is_bot"):
                    continue
                if any(member.get(flag) for flag in ("is_admin", "is_owner", "is_primary_owner")):
                    admins.append(str(member["id"]))
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return admins

    def _cached(self, key: tuple[str, ...], ask: Any) -> bool:
        now = self._clock.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit.until > now:
            return hit.value
        value = bool(ask(*key[1:]))
        self._cache[key] = _Cached(value, now + self._cache_seconds)
        return value

    def _is_admin(self, workspace_id: str, user_id: str) -> bool:
        user = self._slack.client_for(workspace_id).users_info(user=user_id)["user"]
        return any(user.get(flag) for flag in ("is_admin", "is_owner", "is_primary_owner"))

    def _in_group(self, workspace_id: str, group: str, user_id: str) -> bool:
        client = self._slack.client_for(workspace_id)
        return user_id in client.usergroups_users_list(usergroup=group)["users"]

    def _audit(
        self, workspace_id: str, user_id: str, action: str, detail: str, outcome: str
    ) -> None:
        self._auditor.audit(
            workspace_id=workspace_id,
            user_id=user_id,
            action=action,
            detail=detail,
            outcome=outcome,
        )


def _who(policy: Policy) -> str:
    if policy.admins_by_default:
        return "workspace admins and owners"
    names = [f"<@{user}>" for user in sorted(policy.admin_users)]
    if policy.admin_usergroup:
        names.append(f"members of <!subteam^{policy.admin_usergroup}>")
    return " or ".join(names)
