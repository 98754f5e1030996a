"""Values a person gives are checked before they become a URL or a body: words, no call."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.cc import inputs
from bot.cc.client import AccountClient
from bot.cc.models import EngagementLevel, LimitError, ListMembershipRequest, build
from bot.devkit.sandbox.state import Account
from tests.support.cc import Traffic, list_id

ACTIVITY = "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a"


def test_activity_and_job_ids_are_uuids() -> None:
    assert inputs.activity_id(f" {ACTIVITY.upper()} ") == ACTIVITY
    assert inputs.job_id(ACTIVITY) == ACTIVITY
    for bad in ("nope", "../contacts", ACTIVITY.replace("-", ""), f"{{{ACTIVITY}}}", ""):
        with pytest.raises(LimitError, match="is a UUID, such as"):
            inputs.activity_id(bad)
    with pytest.raises(LimitError, match=r"^No job `x`: a job id is a UUID"):
        inputs.job_id("x")


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(LimitError) as refused:
        inputs.activity_id("x" * 500)
    assert len(str(refused.value)) < 150


@pytest.mark.parametrize("good", ["1", " 14 ", 2_147_483_647])
def test_a_segment_id_is_a_positive_integer(good: str | int) -> None:
    assert inputs.segment_id(good) == int(str(good).strip())


@pytest.mark.parametrize("bad", ["0", "-3", "1.5", "fourteen", "", "٣", "2147483648"])
def test_other_segment_ids_are_refused_in_words(bad: str) -> None:
    with pytest.raises(LimitError, match="not a segment id"):
        inputs.segment_id(bad)


def test_engagement_levels_in_any_case() -> None:
    assert inputs.engagement_level(" HIGH ") is EngagementLevel.HIGH
    assert inputs.engagement_level("Unqualified") is EngagementLevel.UNQUALIFIED
    with pytest.raises(LimitError, match="choose one of unqualified, low, medium, high"):
        inputs.engagement_level("very")


def test_names_within_the_contract_lengths() -> None:
    assert inputs.tag_name("  VIP ") == "VIP"
    assert inputs.list_name(" Donors ") == "Donors"
    with pytest.raises(LimitError, match="1 over the limit of 255"):
        inputs.tag_name("t" * 256)
    with pytest.raises(LimitError, match="1 over the limit of 255"):
        inputs.list_name("l" * 256)
    with pytest.raises(LimitError, match="at least one character"):
        inputs.list_name("  ")


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b", "\u3164", "\u2800 \u200d", "\ufeff", "\u202e\u2066"],
)
def test_names_of_only_invisible_characters_are_refused(name: str) -> None:
    for check in (inputs.tag_name, inputs.list_name):
        with pytest.raises(LimitError, match="at least one visible character"):
            check(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("VIP\u202egpj.exe", "U+202E"),  # right-to-left override: reads "VIPexe.jpg"
        ("Donors\u2066x\u2069", "U+2066, U+2069"),
        ("VIP\u200b", "U+200B"),  # looks exactly like "VIP"
        ("a\nb", "U+000A"),
        ("bell\x07", "U+0007"),
    ],
)
def test_names_holding_control_or_direction_characters_are_refused_in_words(
    name: str, code: str
) -> None:
    for check in (inputs.tag_name, inputs.list_name):
        with pytest.raises(LimitError, match=f"cannot hold control characters.*{re.escape(code)}"):
            check(name)


def test_names_of_letters_from_any_script_and_keyboard_symbols_pass() -> None:
    for name in ("Café 2026", "Ünïcødé & co.", "日本語", "VIP #1 (gold) - 50% off!", "العربية"):
        assert inputs.tag_name(name) == name


def test_the_client_refuses_a_bad_activity_id_before_any_call(
    cc: AccountClient, traffic: Traffic
) -> None:
    with pytest.raises(LimitError, match=r"No activity `\.\./contacts`"):
        cc.get_activity("../contacts")
    assert traffic.count() == 0
    with pytest.raises(Exception, match="Activity not found"):
        cc.get_activity(str(uuid.uuid4()))
    assert traffic.count() == 1


def test_the_client_refuses_a_bad_segment_or_list_name_before_any_call(
    cc: AccountClient, demo: Account, traffic: Traffic
) -> None:
    request = build(
        ListMembershipRequest,
        {"source": {"segment_id": -1}, "list_ids": [list_id(demo, "Donors")]},
    )
    with pytest.raises(LimitError, match="`-1` is not a segment id"):
        cc.add_to_lists(request)
    with pytest.raises(LimitError, match="over the limit of 255"):
        cc.find_list_by_name("n" * 300)
    assert traffic.count() == 0
