"""When a rule runs: pure arithmetic over dates, times and time zones (no clock, no I/O).

A schedule is a rhythm (`day`, `weekday`, a day's name, or `month on <1-28>`) and a wall-clock
time in the creator's time zone. `next_run(schedule, after)` answers the first run strictly
after `after`, as an aware UTC datetime. Daylight-saving changes are read the way people
read a clock: a time the clock skips that day (02:30 when clocks jump from 02:00 to 03:00)
runs at the same distance past the jump (03:30); a time the clock shows twice (01:30 when
clocks fall back) runs once, the first time. Runs missed while nothing was running are not
caught up one by one: the next run is always the first one after *now*.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = tuple(name.lower() for name in calendar.day_name)  # monday ... sunday
DAILY = "day"
WEEKDAY = "weekday"
WEEKLY = "week"
MONTHLY = "month"
LAST_DAY_OF_MONTH = 28  # every month has it
UTC_NAME = "UTC"
# Any rhythm has a run within 31 days of any date; a bound keeps the search finite.
SEARCH_DAYS = 62


class ScheduleError(ValueError):
    """The schedule cannot be read; the message says why, in words."""


@dataclass(frozen=True)
class Rhythm:
    """Which days: every day, Monday to Friday, one day of the week (`weekday` 0-6, Monday
    first), or one day of the month (`day` 1-28)."""

    kind: str
    weekday: int | None = None
    day: int | None = None

    def matches(self, when: date) -> bool:
        if self.kind == DAILY:
            return True
        if self.kind == WEEKDAY:
            return when.weekday() < 5
        if self.kind == MONTHLY:
            return when.day == self.day
        return when.weekday() == self.weekday

    @property
    def words(self) -> str:
        if self.kind == MONTHLY:
            return f"month on {self.day}"
        if self.kind in (DAILY, WEEKDAY):
            return self.kind
        return DAYS[self.weekday or 0]


@dataclass(frozen=True)
class Schedule:
    rhythm: Rhythm
    at: time
    tz: str = UTC_NAME

    @property
    def words(self) -> str:
        """`every monday at 09:00`, as it is typed (the zone is said apart)."""
        return f"every {self.rhythm.words} at {self.at:%H:%M}"

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)


def zone(name: str) -> ZoneInfo:
    """The named IANA zone; UTC for a name the system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def known_zone(name: str | None) -> str:
    """`name` when it is a zone the system knows, else UTC."""
    if not name:
        return UTC_NAME
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_NAME
    return name


def parse_rhythm(words: str) -> Rhythm:
    """`day`, `weekday`, `monday` ... `sunday` (`mondays` too), `month on <1-28>`."""
    text = " ".join(words.lower().split())
    if text in (DAILY, WEEKDAY):
        return Rhythm(text)
    day = text.removesuffix("s") if text.removesuffix("s") in DAYS else text
    if day in DAYS:
        return Rhythm(WEEKLY, weekday=DAYS.index(day))
    if text.startswith(f"{MONTHLY} on "):
        return Rhythm(MONTHLY, day=_day_of_month(text.removeprefix(f"{MONTHLY} on ")))
    raise ScheduleError(
        f"“{words.strip()}” is not a schedule; say `day`, `weekday`, a day's name "
        "(`monday`...) or `month on <1-28>`"
    )


def _day_of_month(text: str) -> int:
    digits = text.strip().rstrip(".").removesuffix("th").removesuffix("st")
    digits = digits.removesuffix("nd").removesuffix("rd")
    if not digits.isdigit() or not 1 <= int(digits) <= LAST_DAY_OF_MONTH:
        raise ScheduleError(
            f"“{text.strip()}” is not a day of the month cctag can keep: say 1 to 28 (every "
            "month has them)"
        )
    return int(digits)


def parse_time(text: str) -> time:
    """`09:00`, `9:00` or `17:30`: a 24-hour clock time."""
    hours, colon, minutes = text.strip().partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ScheduleError(f"“{text.strip()}” is not a time; write it as HH:MM, e.g. 09:00")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ScheduleError(f"“{text.strip()}” is not a time of day (00:00 to 23:59)")
    return time(int(hours), int(minutes))


def parse_schedule(words: str, tz: str = UTC_NAME) -> Schedule:
    """`monday at 09:00` (what follows `every`), in the zone `tz`."""
    rhythm, at, clock = words.lower().rpartition(" at ")
    if not at:
        raise ScheduleError("Say when, with `at HH:MM`: `every monday at 09:00 <command>`")
    return Schedule(parse_rhythm(rhythm), parse_time(clock), known_zone(tz))


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant a clock in `tz` shows `at` on `day`: the first when it shows it twice,
    and as far past the jump as `at` is past its start when the clock skips it."""
    # fold=0 (PEP 495) reads a repeated time with the earlier offset, and a skipped one with
    # the offset before the jump, which lands it that far past the jump.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first run strictly after `after` (an aware datetime), in UTC."""
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware datetime")
    tz = schedule.zone
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if not schedule.rhythm.matches(day):
            continue
        instant = wall_clock(day, schedule.at, tz)
        if instant > after:
            return instant
    raise AssertionError(f"no run of {schedule.words} within {SEARCH_DAYS} days")  # unreachable


def local_words(moment: datetime, tz: str) -> str:
    """`Mon 2 Mar 09:00 Europe/Paris`: an instant as the creator's clock shows it."""
    local = moment.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b %H:%M} {tz}"
