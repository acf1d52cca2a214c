"""The district's clock: the one place that says what "now" and "today" are.

Every date a person sees or chooses (page and API defaults, exports, run stamps, weeks, shifts)
is the district's (``settings.timezone``, Asia/Shanghai by default), never the server's: a
server in UTC would otherwise start the day eight hours late. Nothing else calls
``date.today()`` or a zone-less ``datetime.now()``; ``tests/test_clock.py`` fails on them.
Tests freeze this clock with time-machine, which moves ``datetime.now`` itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
"""The days gridsafe reads and computes (every date and instant parameter is checked against
them). Every layer holds them with room to spare: pandas keeps times as nanoseconds (1677-09-21
to 2262-04-11), Python's dates stop at 9999-12-31, PostgreSQL's at 5874897 AD; the margin leaves
room for the arithmetic done on a day (a day or a week later, the same period a year earlier, a
time zone's offset) without ever leaving what pandas holds."""


def supported(day: date) -> bool:
    """Whether ``day`` (or a datetime's day) lies in :data:`EARLIEST` to :data:`LATEST`."""
    return EARLIEST <= (day.date() if isinstance(day, datetime) else day) <= LATEST


def outside_message(value: date) -> str:
    """What to say about a day that is not :func:`supported`."""
    return f"{value.isoformat()} is outside the supported range {EARLIEST} to {LATEST}"


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (an IANA name such as ``Asia/Shanghai``), cached."""
    return ZoneInfo(name)


def now(timezone: str) -> datetime:
    """The current instant as an aware datetime in the district's zone ``timezone``."""
    return datetime.now(zone(timezone))


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime (for expiries and stored stamps)."""
    return datetime.now(UTC)


def today(timezone: str) -> date:
    """The district's date now: the day that has begun at local midnight in ``timezone``."""
    return now(timezone).date()


def day_start(day: date, timezone: str) -> datetime:
    """Local midnight at the start of ``day`` in ``timezone``, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=zone(timezone))


def read(value: str, timezone: str) -> datetime:
    """An ISO date or date-time; a date means local midnight, a naive time is local in
    ``timezone``, a time with an offset keeps it.

    Raises
    ------
    ValueError
        ``value`` is not an ISO 8601 date or date-time.
    """
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone(timezone))
