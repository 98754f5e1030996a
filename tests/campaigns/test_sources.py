"""bot.usecases.sources over real HTTP against the sandbox: what a selection and a menu cost."""

from __future__ import annotations

import pytest

from bot.usecases.inputs import Source, SourceKind
from bot.usecases.outcomes import Refused
from bot.usecases.sources import MENU_TTL, SELECTION_TTL, CampaignMenus, Sources
from tests.support.campaigns import Reader

SPRING = "Spring Newsletter 2026"
PRICING = "https://example.com/pricing"


def test_a_selection_is_read_once_while_it_is_fresh(reader: Reader) -> None:
    sources = Sources(reader.clock)
    clicked = Source(SourceKind.CLICKED, (SPRING, PRICING))
    first = sources.select("T1", reader.client, clicked)
    spent = reader.tenant.requests("/v3/")
    assert spent == first.calls == 6
    assert sources.select("T1", reader.client, clicked) == first  # a confirmation: no calls
    assert reader.tenant.requests("/v3/") == spent
    sources.select("T2", reader.client, clicked)  # another workspace reads its own
    assert reader.tenant.requests("/v3/") == 2 * spent
    reader.clock.advance(SELECTION_TTL)
    sources.select("T1", reader.client, clicked)
    assert reader.tenant.requests("/v3/") == 3 * spent


def test_excluded_contacts_are_left_out_of_the_ids(reader: Reader) -> None:
    sources = Sources(reader.clock)
    opened = Source(SourceKind.OPENED, (SPRING,))
    every = sources.select("T1", reader.client, opened).contact_ids
    found = sources.plan_source("T1", reader.client, opened, every[:3], tagging=True)
    assert found.body == {"contact_ids": list(every[3:])} and found.exclude == []
    assert found.contacts == len(every) - 3
    assert found.notes[-1] == "3 of them left out, as you asked."


def test_a_segment_name_becomes_its_id_for_lists_and_an_id_costs_nothing(reader: Reader) -> None:
    sources = Sources(reader.clock)
    assert sources.segment_id(reader.client, "7") == 7
    assert reader.tenant.requests("/v3/") == 0
    assert sources.segment_id(reader.client, "active DONORS") == 2
    with pytest.raises(Refused, match="No segment is named or numbered “Nobody”"):
        sources.segment_id(reader.client, "Nobody")


def test_menus_are_cached_and_long_values_travel_as_keys(reader: Reader) -> None:
    menus = CampaignMenus(reader.clock)
    names = menus.campaigns("T1", reader.client)
    assert SPRING in names and "Holiday Draft" not in names
    assert menus.links("T1", reader.client, SPRING)[0] == PRICING
    spent = reader.tenant.requests("/v3/")
    menus.campaigns("T1", reader.client)
    menus.links("T1", reader.client, SPRING.upper())
    assert reader.tenant.requests("/v3/") == spent
    reader.clock.advance(MENU_TTL)
    menus.campaigns("T1", reader.client)
    assert reader.tenant.requests("/v3/") == spent + 1
    long_url = PRICING + "?" + "x" * 200
    key = menus.value_of(long_url)
    assert len(key) <= 150 and menus.picked([SPRING, key]) == (SPRING, long_url)
    assert menus.value_of(PRICING) == PRICING
    with pytest.raises(Refused, match="pick it again"):
        CampaignMenus(reader.clock).picked([key])
