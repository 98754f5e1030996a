"""A short-lived, per-workspace copy of the account's tags and lists.

Type-ahead menus and name resolution read it, so typing never costs an API call per keystroke:
one list call per workspace per `ttl` seconds (and one more when a name is not found).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.cc.client import AccountClient
from bot.cc.models import ContactList, Tag
from bot.clock import SYSTEM_CLOCK, Clock
from bot.usecases.names import fold

DEFAULT_TTL = 60.0
T = TypeVar("T")
# How long a type-ahead menu waits for Constant Contact: Slack drops an answer after 3 s.
MENU_DEADLINE = 2.0


@dataclass
class _Slot:
    """One workspace's tags or lists: the last answer, when it came, and a load under way."""

    value: list[Any] | None = None
    loaded_at: float = 0.0
    loading: Future[list[Any]] | None = None


class Catalog:
    """Loads are single-flight: callers that arrive while one is under way wait for it instead
    of spending another call; with `within`, a caller waits at most that long (a menu must
    answer within Slack's 3 s) and gets what was cached before, while the load goes on."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        clock: Clock = SYSTEM_CLOCK,
        menu_deadline: float = MENU_DEADLINE,
    ) -> None:
        self.menu_deadline = menu_deadline
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._loader = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cctag-catalog")

    def tags(
        self,
        workspace_id: str,
        client: AccountClient,
        *,
        fresh: bool = False,
        within: float | None = None,
    ) -> list[Tag]:
        return self._read((workspace_id, "tags"), client.list_tags, fresh, within)

    def lists(
        self,
        workspace_id: str,
        client: AccountClient,
        *,
        fresh: bool = False,
        within: float | None = None,
    ) -> list[ContactList]:
        return self._read((workspace_id, "lists"), client.list_lists, fresh, within)

    def forget_tags(self, workspace_id: str) -> None:
        """After creating or deleting a tag: the next read loads them again."""
        with self._lock:
            self._slots.pop((workspace_id, "tags"), None)

    def forget(self, workspace_id: str) -> None:
        """Where a plan must be checked against the account as it is now (an approval's
        click): the next reads of its tags and lists load them again."""
        with self._lock:
            for kind in ("tags", "lists"):
                self._slots.pop((workspace_id, kind), None)

    def _read(
        self, key: tuple[str, str], load: Callable[[], list[T]], fresh: bool, within: float | None
    ) -> list[T]:
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            usable = slot.value is not None and self._fresh(slot.loaded_at)
            if usable and not fresh and slot.loading is None:
                return list(slot.value or [])
            leader = slot.loading is None
            if leader:
                slot.loading = Future()
            waiting = slot.loading
            assert waiting is not None
        if leader:
            if within is None:
                self._load(key, slot, load, waiting)
            else:
                self._loader.submit(self._load, key, slot, load, waiting)
        try:
            return list(waiting.result(timeout=within))
        except FutureTimeout:
            return list(slot.value or [])

    def _load(
        self, key: tuple[str, str], slot: _Slot, load: Callable[[], list[Any]], done: Future[Any]
    ) -> None:
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                slot.loading = None
            done.set_exception(exc)
            return
        with self._lock:
            slot.loading = None
            if self._slots.get(key) is slot:  # not forgotten while it loaded
                slot.value, slot.loaded_at = value, self._clock.monotonic()
        done.set_result(value)

    def _fresh(self, loaded_at: float) -> bool:
        return self._clock.monotonic() - loaded_at < self._ttl


def matching(names: list[tuple[str, str]], typed: str, limit: int = 100) -> list[tuple[str, str]]:
    """(id, name) pairs whose name contains what was typed, names starting with it first."""
    wanted = fold(typed)
    keyed = [(fold(pair[1]), pair) for pair in names]
    found = [(key, pair) for key, pair in keyed if wanted in key]
    found.sort(key=lambda item: (not item[0].startswith(wanted), item[0]))
    return [pair for _, pair in found[:limit]]
