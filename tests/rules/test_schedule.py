"""The schedule's arithmetic, on given instants: every rhythm, zones, both daylight-saving
changes, missed runs coming to one, and the words it reads and says."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.usecases.rules.schedule import (
    Rhythm,
    Schedule,
    ScheduleError,
    known_zone,
    local_words,
    next_run,
    parse_rhythm,
    parse_schedule,
    parse_time,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def runs(schedule: Schedule, start: datetime, count: int) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = next_run(schedule, moment)
        found.append(moment)
    return found


def test_daily_runs_each_day_at_the_time_and_strictly_after() -> None:
    schedule = parse_schedule("day at 09:00")
    assert runs(schedule, utc("2026-05-04T08:00"), 3) == [
        utc("2026-05-04T09:00"),
        utc("2026-05-05T09:00"),
        utc("2026-05-06T09:00"),
    ]
    # At the run's very moment, the next one is the following day's.
    assert next_run(schedule, utc("2026-05-04T09:00")) == utc("2026-05-05T09:00")
    assert next_run(schedule, utc("2026-05-04T09:00:01")) == utc("2026-05-05T09:00")


def test_weekday_skips_saturday_and_sunday() -> None:
    schedule = parse_schedule("weekday at 07:30")
    friday = utc("2026-05-08T08:00")  # after Friday's run
    assert runs(schedule, friday, 2) == [utc("2026-05-11T07:30"), utc("2026-05-12T07:30")]
    week = runs(schedule, utc("2026-05-10T00:00"), 5)  # from a Sunday
    assert [moment.strftime("%a") for moment in week] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    ("name", "weekday"),
    [("monday", 0), ("Wednesday", 2), ("sundays", 6), ("  FRIDAY ", 4)],
)
def test_a_days_name_runs_once_a_week(name: str, weekday: int) -> None:
    schedule = parse_schedule(f"{name} at 18:15")
    found = runs(schedule, utc("2026-05-01T00:00"), 3)
    assert all(moment.weekday() == weekday for moment in found)
    assert [b - a for a, b in itertools.pairwise(found)] == [timedelta(days=7)] * 2
    assert all(moment.time() == time(18, 15) for moment in found)


def test_monthly_runs_on_its_day_in_every_month_even_february() -> None:
    schedule = parse_schedule("month on 28 at 06:00")
    found = runs(schedule, utc("2026-01-28T06:00"), 3)
    assert found == [utc("2026-02-28T06:00"), utc("2026-03-28T06:00"), utc("2026-04-28T06:00")]
    first = parse_schedule("month on 1 at 00:00")
    assert next_run(first, utc("2026-12-15T00:00")) == utc("2027-01-01T00:00")


def test_the_time_is_the_creators_wall_clock() -> None:
    schedule = parse_schedule("day at 09:00", "America/New_York")
    assert next_run(schedule, utc("2026-06-01T00:00")) == utc("2026-06-01T13:00")  # EDT
    tokyo = parse_schedule("day at 08:00", "Asia/Tokyo")  # 23:00 UTC the day before
    assert next_run(tokyo, utc("2026-06-01T22:00")) == utc("2026-06-01T23:00")
    assert local_words(utc("2026-06-01T23:00"), "Asia/Tokyo") == "Tue 2 Jun 08:00 Asia/Tokyo"


def test_spring_forward_keeps_the_wall_clock_time() -> None:
    """Europe/Paris goes from UTC+1 to UTC+2 at 02:00 on 29 March 2026."""
    schedule = parse_schedule("day at 09:00", "Europe/Paris")
    found = runs(schedule, utc("2026-03-27T12:00"), 3)
    assert found == [utc("2026-03-28T08:00"), utc("2026-03-29T07:00"), utc("2026-03-30T07:00")]
    assert all(local_words(m, "Europe/Paris").endswith("09:00 Europe/Paris") for m in found)


def test_a_time_the_clock_skips_runs_as_far_past_the_jump() -> None:
    """02:30 does not exist in Paris on 29 March 2026: it runs at 03:30 summer time, once."""
    schedule = parse_schedule("day at 02:30", "Europe/Paris")
    found = runs(schedule, utc("2026-03-28T12:00"), 2)
    assert found == [utc("2026-03-29T01:30"), utc("2026-03-30T00:30")]
    assert local_words(found[0], "Europe/Paris") == "Sun 29 Mar 03:30 Europe/Paris"


def test_fall_back_keeps_the_wall_clock_time_and_a_repeated_time_runs_once() -> None:
    """New York goes from UTC-4 to UTC-5 at 02:00 on 1 November 2026; 01:30 happens twice."""
    nine = parse_schedule("day at 09:00", "America/New_York")
    assert runs(nine, utc("2026-10-31T12:00"), 2) == [
        utc("2026-10-31T13:00"),
        utc("2026-11-01T14:00"),
    ]
    twice = parse_schedule("day at 01:30", "America/New_York")
    found = runs(twice, utc("2026-10-31T12:00"), 2)
    assert found == [utc("2026-11-01T05:30"), utc("2026-11-02T06:30")]  # not 06:30 on the 1st


def test_runs_missed_while_down_come_to_one_next_run() -> None:
    schedule = parse_schedule("day at 09:00")
    back = utc("2026-05-10T10:00")  # down since the 4th: six 09:00s went by
    assert next_run(schedule, back) == utc("2026-05-11T09:00")


def test_words_read_and_said() -> None:
    assert parse_schedule("Monday at 9:05").words == "every monday at 09:05"
    assert parse_schedule("month on 3 at 23:59").words == "every month on 3 at 23:59"
    assert parse_rhythm("weekday") == Rhythm("weekday")
    assert parse_time("00:00") == time(0, 0)
    assert known_zone("Nowhere/Atlantis") == "UTC" and known_zone(None) == "UTC"
    assert parse_schedule("day at 09:00", "Nowhere/Atlantis").tz == "UTC"


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("fortnight at 09:00", "is not a schedule"),
        ("month on 31 at 09:00", "say 1 to 28"),
        ("month on 0 at 09:00", "say 1 to 28"),
        ("day at 9", "write it as HH:MM"),
        ("day at 24:00", "not a time of day"),
        ("day at 09:60", "not a time of day"),
        ("monday", "`at HH:MM`"),
    ],
)
def test_bad_schedules_are_refused_in_words(words: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says.replace("(", r"\(")):
        parse_schedule(words)


def test_next_run_wants_an_aware_moment() -> None:
    with pytest.raises(ValueError):
        next_run(parse_schedule("day at 09:00"), datetime(2026, 1, 1))
