"""Periods of coverage: a shift of the three-shift day, a day, a week, or any range.

Shifts and days are local (``settings.timezone``, Asia/Shanghai by default): police and community
patrol jointly in three 8-hour shifts around the clock, whose start hours are the
setting ``shift_start_hours`` (default 0, 8, 16: 00-08, 08-16, 16-24). Weeks are ISO weeks,
Monday to Monday, the week of the weekly visit rule (每周遍访). Every period is half-open,
``[start, end)``, in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from geo import clock
from geo.errors import InputError
from geo.settings import CoverageSettings, Settings


class PeriodKind(StrEnum):
    """The named periods a coverage request can ask for."""

    SHIFT = "shift"
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Period:
    """A half-open time range ``[start, end)`` (both timezone-aware) with a readable label."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            msg = f"period {self.label!r}: times must carry a time zone"
            raise ValueError(msg)
        if self.end <= self.start:
            msg = f"period {self.label!r}: it ends ({self.end}) before it starts ({self.start})"
            raise InputError(msg)


def parse_instant(value: str, settings: Settings) -> datetime:
    """Parse an ISO date or date-time; a date means local midnight, a naive time local time.

    Raises
    ------
    InputError
        The value is not an ISO 8601 date or date-time.
    """
    try:
        return clock.read(value, settings.timezone)
    except ValueError as exc:
        msg = f"unreadable time {value!r}: use an ISO date (2026-11-24) or date-time"
        raise InputError(msg) from exc


def _shift_starts(coverage: CoverageSettings) -> list[int]:
    starts = sorted(coverage.shift_start_hours)
    if not starts or starts[0] != 0 or starts[-1] >= 24:
        msg = f"shift_start_hours must start at 0 and stay below 24, not {starts}"
        raise ValueError(msg)
    return starts


def shift_names(coverage: CoverageSettings) -> list[str]:
    """The shifts of a day by number and local hours: ``1 (00-08)``, ``2 (08-16)``, ..."""
    starts = _shift_starts(coverage)
    ends = [*starts[1:], 24]
    return [f"{i} ({s:02d}-{e:02d})" for i, (s, e) in enumerate(zip(starts, ends, strict=True), 1)]


def shift_number(at: datetime, settings: Settings) -> int:
    """The number (1 for the first of the day) of the shift holding ``at``."""
    hour = at.astimezone(clock.zone(settings.timezone)).hour
    return max(i for i, h in enumerate(_shift_starts(settings.coverage), start=1) if hour >= h)


def shift_on(day: date, number: int, settings: Settings) -> Period:
    """Shift ``number`` (1 for the first) of the local calendar day ``day``.

    Raises
    ------
    InputError
        The day has no shift of that number.
    """
    starts = _shift_starts(settings.coverage)
    if not 1 <= number <= len(starts):
        msg = f"no shift {number}: a day has shifts 1 to {len(starts)}"
        raise InputError(msg)
    return shift_of(
        clock.day_start(day, settings.timezone) + timedelta(hours=starts[number - 1]), settings
    )


def shift_of(at: datetime, settings: Settings) -> Period:
    """The shift holding ``at`` (a shift that starts before midnight ends at the next one)."""
    local = at.astimezone(clock.zone(settings.timezone))
    starts = _shift_starts(settings.coverage)
    midnight = clock.day_start(local.date(), settings.timezone)
    index = shift_number(at, settings) - 1
    start = midnight + timedelta(hours=starts[index])
    end_hour = starts[index + 1] if index + 1 < len(starts) else 24
    end = (
        clock.day_start(local.date() + timedelta(days=1), settings.timezone)
        if end_hour == 24
        else (midnight + timedelta(hours=end_hour))
    )
    label = f"{local.date().isoformat()} shift {shift_names(settings.coverage)[index]}"
    return Period(start.astimezone(UTC), end.astimezone(UTC), label)


def day_of(at: datetime, settings: Settings) -> Period:
    """The local calendar day holding ``at``."""
    day = at.astimezone(clock.zone(settings.timezone)).date()
    start = clock.day_start(day, settings.timezone)
    end = clock.day_start(day + timedelta(days=1), settings.timezone)
    return Period(start.astimezone(UTC), end.astimezone(UTC), day.isoformat())


def week_of(at: datetime, settings: Settings) -> Period:
    """The ISO week (Monday 00:00 local to the next Monday) holding ``at``."""
    day = at.astimezone(clock.zone(settings.timezone)).date()
    monday = day - timedelta(days=day.weekday())
    start = clock.day_start(monday, settings.timezone)
    end = clock.day_start(monday + timedelta(days=7), settings.timezone)
    year, week, _ = monday.isocalendar()
    return Period(start.astimezone(UTC), end.astimezone(UTC), f"{year}-W{week:02d}")


def period_of(kind: PeriodKind, at: datetime, settings: Settings) -> Period:
    """The shift, day or week holding ``at``."""
    return {PeriodKind.SHIFT: shift_of, PeriodKind.DAY: day_of, PeriodKind.WEEK: week_of}[kind](
        at, settings
    )


def last_days(at: datetime, days: float) -> Period:
    """The ``days`` before ``at``: ``[at - days, at)`` (the weekly rule's window)."""
    return Period(
        (at - timedelta(days=days)).astimezone(UTC), at.astimezone(UTC), f"{days:g} days to {at}"
    )


MAX_PERIOD_DAYS = 366
"""The longest period a coverage request may ask for: a year's covers are a year of shifts,
each read or computed; a longer range is refused rather than left to run for minutes."""


def requested(start: datetime, end: datetime) -> Period:
    """The range ``[start, end)`` a caller asked for (:func:`between`), refused when it spans
    more than :data:`MAX_PERIOD_DAYS`."""
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise InputError(f"a coverage period is at most {MAX_PERIOD_DAYS} days; ask for less")
    return between(start, end)


def between(start: datetime, end: datetime) -> Period:
    """Any range ``[start, end)``."""
    return Period(
        start.astimezone(UTC), end.astimezone(UTC), f"{start.isoformat()}/{end.isoformat()}"
    )
