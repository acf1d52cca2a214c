"""The frozen instants the date- and shift-sensitive tests run at, shared by every test file.

Each instant is a local wall time in a district's zone: the hours around midnight (where a
server in UTC would start the district's day eight hours late or early), a shift change, the
turn of the year, and a district set to a zone with daylight saving on the day after its change.
Use the ``frozen`` fixture (tests/conftest.py): it moves the clock there with time-machine and
hands the instant and the district's settings to the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo import clock


@dataclass(frozen=True)
class Instant:
    """A frozen moment: ``local`` is the wall time in the district's zone ``timezone``."""

    name: str
    local: datetime

    @property
    def timezone(self) -> str:
        """The district's zone (an IANA name)."""
        return str(self.local.tzinfo)


def at(name: str, wall: str, timezone: str = "Asia/Shanghai") -> Instant:
    """The instant named ``name`` at the local wall time ``wall`` (ISO) in ``timezone``."""
    return Instant(name, clock.read(wall, timezone))


INSTANTS = (
    at("0030", "2026-12-05T00:30"),  # the district's day began 30 min ago; UTC is still on the 4th
    at("2330", "2026-12-04T23:30"),  # the district's day ends in 30 min; UTC is on the same date
    at("shift-change", "2026-12-04T08:00"),  # shift 2 begins (GRIDSAFE_SHIFT_START_HOURS 0/8/16)
    at("new-year", "2027-01-01T00:30"),  # a new year and month locally, the old ones in UTC
    at("new-years-eve", "2026-12-31T23:30"),  # the last half hour of the year
    at("berlin-dst", "2026-03-30T00:30", "Europe/Berlin"),  # the day after summer time began
    at("new-york-dst", "2026-11-02T00:30", "America/New_York"),  # the day after it ended
)
"""Every instant the date-sensitive tests run at."""

DEMO_LOADED = at("demo-0030", "2026-11-24T00:30")
"""When the tests' demo district is loaded: half an hour into the district's day, the hour the
issue's CI run failed at (a UTC server still on the previous date)."""
