"""The rule commands' grammar: `every <when> at <HH:MM> <line>` and `rule <verb> <id>`."""

from __future__ import annotations

import pytest

from bot.usecases.grammar import Every, ParseError, parse_every, parse_rule_action


@pytest.mark.parametrize(
    ("rest", "every"),
    [
        (
            'monday at 09:00 add "Resend" --not-opened latest',
            Every("monday at 09:00", 'add "Resend" --not-opened latest'),
        ),
        (
            "month on 3 at 6:15 unlists Old --tags Gone",
            Every("month on 3 at 6:15", "unlists Old --tags Gone"),
        ),
        (
            "weekday AT 07:30 REMOVE VIP --lists X",
            Every("weekday at 07:30", "remove VIP --lists X"),
        ),
        # `at` inside the line is the line's: the first `at <time>` is the schedule's
        (
            "day at 09:00 add At Home --lists at 10",
            Every("day at 09:00", "add At Home --lists at 10"),
        ),
    ],
)
def test_every_reads_when_and_line(rest: str, every: Every) -> None:
    assert parse_every(rest) == every


@pytest.mark.parametrize(
    ("rest", "says"),
    [
        ("monday add VIP --lists X", "Say when and what"),
        ("monday at 09:00", "runs an `add`, `remove`, `lists` or `unlists` line"),
        ("monday at 09:00 delete VIP", "runs an `add`, `remove`, `lists` or `unlists` line"),
        ("monday at 09:00 every day at 10:00 add X", "runs an `add`"),
        ("monday at 09:00 add", "Give `add` its names and source"),
    ],
)
def test_every_refuses_in_words(rest: str, says: str) -> None:
    with pytest.raises(ParseError, match=says.replace("(", r"\(")):
        parse_every(rest)


def test_rule_actions() -> None:
    assert parse_rule_action("pause 3") == ("pause", 3)
    assert parse_rule_action("RESUME #12") == ("resume", 12)
    assert parse_rule_action(" delete  7 ") == ("delete", 7)
    with pytest.raises(ParseError, match="rule pause <id>"):
        parse_rule_action("stop 3")
    with pytest.raises(ParseError, match="by its number"):
        parse_rule_action("pause")
