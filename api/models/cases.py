"""Cases in the closed loop and the statistics leaders read."""

from __future__ import annotations

from pydantic import Field

from api.models.common import (
    Answer,
    AreaRef,
    Day,
    FeatureCollection,
    Instant,
    Number,
    NumberedFeature,
    Page,
    Point,
)
from api.models.records import AreaPath
from geo.cases import State


class CaseFields(Answer):
    """What a case says in a list and alone."""

    id: int
    incident_id: int
    source_id: str = Field(description="the incident's id at its source")
    platform: str = Field(description="the intake platform's code")
    type: str = Field(description="the incident's type code")
    type_zh: str
    state: State
    outcome: str | None = Field(description="resolved or unresolved, once handled")
    area_code: str | None = Field(description="the incident's micro-grid")
    area_path: AreaPath
    grid_code: str | None = Field(description="the responsible level-3 grid; null: outside")
    squad: str | None
    department: str | None
    received_at: Instant
    deadline_at: Instant
    dispatched_at: Instant | None
    handled_at: Instant | None
    closed_at: Instant | None
    overdue: bool
    version: int = Field(description="the optimistic lock: send it back with the next step")


class CaseFeature(NumberedFeature[Point | None, CaseFields]):
    """A case at its incident's point."""


class CaseCollection(FeatureCollection[CaseFeature], Page):
    """A page of cases, newest receipt first."""


class CaseEvent(Answer):
    """One step of a case's history."""

    from_: str | None = Field(alias="from", description="null for the opening")
    to: str
    actor: str
    at: Instant
    squad: str | None
    department: str | None
    note: str | None
    reason: str | None = Field(description="why it was reopened")
    version: int = Field(description="the case's version after the step")


class Case(Answer):
    """One case with its incident, its history and the states allowed next."""

    id: int
    incident_id: int
    source: str
    source_id: str
    platform: str
    type: str
    type_zh: str
    description: str | None
    state: State
    outcome: str | None
    area_code: str | None
    area_path: AreaPath
    grid_code: str | None
    squad: str | None
    department: str | None
    received_at: Instant
    deadline_at: Instant
    dispatched_at: Instant | None
    handled_at: Instant | None
    closed_at: Instant | None
    overdue: bool
    version: int
    geometry: Point | None
    events: list[CaseEvent]
    allowed: list[State]


# --------------------------------------------------------------------------- statistics


class Figures(Answer):
    """Counts of one period."""

    received: int
    resolved: int
    resolution_rate_pct: Number | None = Field(description="null when nothing was received")
    rate_applicable: bool
    median_hours_to_resolve: Number | None
    overdue: int


class Changes(Answer):
    """Change in percent against the year before; null when that was zero."""

    received: Number | None
    resolved: Number | None
    overdue: Number | None


class Compared(Figures):
    """Figures of the period against the same period a year earlier."""

    previous: Figures
    change_pct: Changes
    resolution_rate_change_points: Number | None


class Key(Answer):
    """What a row of a breakdown is about: a type or platform (``name_zh``, ``name_en``) or a
    grid (``name``)."""

    key: str | None = Field(description="the type, platform or grid code; null: no grid")
    name_zh: str | None = None
    name_en: str | None = None
    name: str | None = None


class NamedCompared(Compared, Key):
    """The figures of one type, platform or grid (its key first, as the answer lists it)."""


class Period(Answer):
    """Local days, both included."""

    from_: Day = Field(alias="from")
    to: Day


class MonthCount(Answer):
    """Cases received and resolved in one month."""

    received: int
    resolved: int


class Months(Answer):
    """Per month ``YYYY-MM`` of the period and of the year before."""

    current: dict[str, MonthCount]
    previous: dict[str, MonthCount]


class IncidentCount(Answer):
    """Incidents of one type, year on year."""

    type: str
    name_zh: str
    name_en: str
    count: int
    previous: int
    change_pct: Number | None


class GridZeros(Answer):
    """The three zeros of one grid: no petitions, no accidents, no cases."""

    code: str
    name: str
    petitions: int
    accidents: int
    cases: int
    zero_petitions: bool
    zero_accidents: bool
    zero_cases: bool
    met: int = Field(description="how many of the three zeros hold")


class ZerosSummary(Answer):
    """How many grids hold each zero, and all three."""

    grids: int
    all_three: int
    zero_petitions: int
    zero_accidents: int
    zero_cases: int


class ThreeZero(Answer):
    """The three-zeros table."""

    grids: list[GridZeros]
    summary: ZerosSummary


class Stats(Answer):
    """Case statistics of an area and a period, year on year."""

    area: AreaRef | None = Field(description="null: the whole region")
    period: Period
    previous_period: Period
    as_of: Instant
    cases: Compared
    by_type: list[NamedCompared]
    by_platform: list[NamedCompared]
    by_grid: list[NamedCompared]
    by_month: Months
    incidents: list[IncidentCount]
    three_zero: ThreeZero
