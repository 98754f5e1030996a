"""Tag and list names to ids, from a short-lived per-workspace cache.

Constant Contact calls are budgeted (4 a second, 10,000 a day per API key), so type-ahead and
name resolution read one cached copy of the account's tags (with their contact counts) and
lists, fetched at most once per `ttl` seconds; a name missing from the copy refreshes it once
before it is called unknown (it may have been created a moment ago).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.cc.client import AccountClient
from bot.cc.models import ContactList, Tag
from bot.clock import Clock
from bot.usecases.errors import Refused, unknown

DEFAULT_TTL_SECONDS = 60.0
MAX_MATCHES = 100

Item = TypeVar("Item", Tag, ContactList)


@dataclass
class _Entry(Generic[Item]):
    items: list[Item]
    fetched_at: float


class _Cached(Generic[Item]):
    def __init__(self, clock: Clock, ttl: float, fetch: Callable[[AccountClient], list[Item]]):
        self._clock = clock
        self._ttl = ttl
        self._fetch: Callable[[AccountClient], list[Item]] = fetch
        self._entries: dict[str, _Entry[Item]] = {}
        self._lock = threading.Lock()

    def get(self, client: AccountClient, workspace_id: str, refresh: bool = False) -> list[Item]:
        with self._lock:
            entry = self._entries.get(workspace_id)
            fresh = entry is not None and self._clock.monotonic() - entry.fetched_at < self._ttl
            if entry is not None and fresh and not refresh:
                return entry.items
        items = self._fetch(client)
        with self._lock:
            self._entries[workspace_id] = _Entry(items, self._clock.monotonic())
        return items

    def forget(self, workspace_id: str) -> None:
        with self._lock:
            self._entries.pop(workspace_id, None)


def _name_of(item: Tag | ContactList) -> str:
    return item.name


class NameCache:
    def __init__(self, clock: Clock, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._tags: _Cached[Tag] = _Cached(clock, ttl, lambda c: c.list_tags(include_count=True))
        self._lists: _Cached[ContactList] = _Cached(
            clock, ttl, lambda c: c.list_lists(include_membership_count=True)
        )

    def tags(self, client: AccountClient, workspace_id: str, refresh: bool = False) -> list[Tag]:
        return self._tags.get(client, workspace_id, refresh)

    def lists(
        self, client: AccountClient, workspace_id: str, refresh: bool = False
    ) -> list[ContactList]:
        return self._lists.get(client, workspace_id, refresh)

    def forget_tags(self, workspace_id: str) -> None:
        self._tags.forget(workspace_id)

    def search_tags(self, client: AccountClient, workspace_id: str, typed: str) -> list[Tag]:
        return _matching(self.tags(client, workspace_id), typed)

    def search_lists(
        self, client: AccountClient, workspace_id: str, typed: str
    ) -> list[ContactList]:
        return _matching(self.lists(client, workspace_id), typed)

    def resolve_tags(
        self, client: AccountClient, workspace_id: str, names: Sequence[str], field: str
    ) -> list[Tag]:
        found = _resolve(names, self.tags(client, workspace_id))
        if found is None:
            found = _resolve(names, self.tags(client, workspace_id, refresh=True))
        return _found_or_refuse(found, names, self.tags(client, workspace_id), "tags", field)

    def resolve_lists(
        self, client: AccountClient, workspace_id: str, names: Sequence[str], field: str
    ) -> list[ContactList]:
        found = _resolve(names, self.lists(client, workspace_id))
        if found is None:
            found = _resolve(names, self.lists(client, workspace_id, refresh=True))
        return _found_or_refuse(found, names, self.lists(client, workspace_id), "lists", field)


def _matching(items: list[Item], typed: str) -> list[Item]:
    wanted = typed.strip().casefold()
    hits = [item for item in items if wanted in item.name.casefold()]
    # Names starting with what was typed first, then alphabetical.
    hits.sort(key=lambda item: (not item.name.casefold().startswith(wanted), item.name.casefold()))
    return hits[:MAX_MATCHES]


def _by_name(items: list[Item]) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = {}
    for item in items:
        found.setdefault(item.name.strip().casefold(), []).append(item)
    return found


def _resolve(names: Sequence[str], items: list[Item]) -> list[Item] | None:
    """Every name's item, or None when a name is missing (the caller may refresh and retry)."""
    index = _by_name(items)
    if any(name.strip().casefold() not in index for name in names):
        return None
    return [index[name.strip().casefold()][0] for name in names]


def _found_or_refuse(
    found: list[Item] | None, names: Sequence[str], items: list[Item], what: str, field: str
) -> list[Item]:
    index = _by_name(items)
    missing = [name for name in names if name.strip().casefold() not in index]
    if found is None or missing:
        raise Refused({field: unknown(what, missing)})
    ambiguous = [name for name in names if len(index[name.strip().casefold()]) > 1]
    if ambiguous:
        listed = ", ".join(f"“{name}”" for name in ambiguous)
        raise Refused({field: f"Several {what} share the name {listed}; rename them first"})
    return _unique(found)


def _unique(items: list[Item]) -> list[Item]:
    seen: set[int] = set()
    kept = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            kept.append(item)
    return kept
