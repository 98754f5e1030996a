"""A short-lived, per-workspace copy of the account's tags and lists.

Type-ahead menus and name resolution read it, so typing never costs an API call per keystroke:
one list call per workspace per `ttl` seconds (and one more when a name is not found).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bot.cc.client import AccountClient
from bot.cc.models import ContactList, Tag
from bot.clock import SYSTEM_CLOCK, Clock

DEFAULT_TTL = 60.0


@dataclass
class _Entry:
    tags: list[Tag] | None = None
    tags_at: float = 0.0
    lists: list[ContactList] | None = None
    lists_at: float = 0.0


class Catalog:
    def __init__(self, ttl: float = DEFAULT_TTL, clock: Clock = SYSTEM_CLOCK) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _entry(self, workspace_id: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(workspace_id, _Entry())

    def _fresh(self, loaded_at: float) -> bool:
        return self._clock.monotonic() - loaded_at < self._ttl

    def tags(self, workspace_id: str, client: AccountClient, *, fresh: bool = False) -> list[Tag]:
        entry = self._entry(workspace_id)
        if fresh or entry.tags is None or not self._fresh(entry.tags_at):
            entry.tags, entry.tags_at = client.list_tags(), self._clock.monotonic()
        return entry.tags

    def lists(
        self, workspace_id: str, client: AccountClient, *, fresh: bool = False
    ) -> list[ContactList]:
        entry = self._entry(workspace_id)
        if fresh or entry.lists is None or not self._fresh(entry.lists_at):
            entry.lists, entry.lists_at = client.list_lists(), self._clock.monotonic()
        return entry.lists

    def forget_tags(self, workspace_id: str) -> None:
        """After creating or deleting a tag: the next read loads them again."""
        self._entry(workspace_id).tags = None


def matching(names: list[tuple[str, str]], typed: str, limit: int = 100) -> list[tuple[str, str]]:
    """(id, name) pairs whose name contains what was typed, names starting with it first."""
    wanted = typed.strip().casefold()
    found = [pair for pair in names if wanted in pair[1].casefold()]
    found.sort(key=lambda pair: (not pair[1].casefold().startswith(wanted), pair[1].casefold()))
    return found[:limit]
