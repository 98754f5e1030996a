"""The catalog: one load at a time per workspace, and menus that never wait past their deadline."""

from __future__ import annotations

import threading
from typing import cast

from bot.cc.client import AccountClient
from bot.cc.models import Tag
from bot.clock import FakeClock
from bot.usecases.catalog import Catalog


class Gated:
    """An AccountClient stand-in whose list_tags blocks until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls = 0
        self.names = ["VIP"]

    def list_tags(self) -> list[Tag]:
        self.calls += 1
        self.started.set()
        assert self.gate.wait(timeout=10)
        return [Tag(tag_id=f"t{i}", name=name) for i, name in enumerate(self.names)]


def _read_in_thread(
    catalog: Catalog, account: AccountClient, out: list[list[str]]
) -> threading.Thread:
    thread = threading.Thread(
        target=lambda: out.append([t.name for t in catalog.tags("T1", account)])
    )
    thread.start()
    return thread


def test_readers_arriving_during_a_load_share_it() -> None:
    catalog, gated = Catalog(clock=FakeClock()), Gated()
    account = cast(AccountClient, gated)
    out: list[list[str]] = []
    threads = [_read_in_thread(catalog, account, out) for _ in range(5)]
    assert gated.started.wait(timeout=10)
    gated.gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert out == [["VIP"]] * 5
    assert gated.calls == 1


def test_a_menu_answers_what_it_has_by_its_deadline_and_the_load_fills_the_cache() -> None:
    catalog, gated = Catalog(clock=FakeClock(), menu_deadline=0.05), Gated()
    account = cast(AccountClient, gated)
    assert catalog.tags("T1", account, within=catalog.menu_deadline) == []  # did not wait on CC
    gated.gate.set()
    assert [t.name for t in catalog.tags("T1", account)] == ["VIP"]  # the same load, finished
    assert gated.calls == 1


def test_a_tag_forgotten_while_a_load_runs_is_loaded_again() -> None:
    clock = FakeClock()
    catalog, gated = Catalog(clock=clock), Gated()
    account = cast(AccountClient, gated)
    out: list[list[str]] = []
    thread = _read_in_thread(catalog, account, out)
    assert gated.started.wait(timeout=10)
    catalog.forget_tags("T1")  # a tag was created meanwhile: that load may not know it
    gated.names = ["VIP", "New"]
    gated.gate.set()
    thread.join(timeout=10)
    assert [t.name for t in catalog.tags("T1", account)] == ["VIP", "New"]
    assert gated.calls == 2
