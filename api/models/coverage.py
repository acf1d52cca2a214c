"""Patrol tracks and check-ins in; coverage and gaps out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.models.common import (
    Answer,
    CodedFeature,
    FeatureCollection,
    ImportReport,
    Instant,
    Number,
    Shape,
)
from geo.assessment import Colour
from geo.levels import Level


class TrackReport(ImportReport):
    """The import report of a batch of fixes with its cleaning counts."""

    duplicates: int = Field(description="fixes dropped as repeats")
    too_fast: int = Field(description="fixes dropped at an impossible speed")
    tracks: int = Field(description="tracks started")
    units: int = Field(description="patrol units seen")


class CoverageProperties(Answer):
    """The coverage of one area in the period."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    area_m2: Number | None
    covered_m2: Number | None
    covered_share: Number | None = Field(description="0-1; null for an area of no extent")
    visits: int | None
    deterrent_visits: int | None
    dwell_s: Number | None
    checkins: int | None
    micro_grids: int | None
    micro_grids_unvisited: int | None
    last_patrol_at: Instant | None
    last_checkin_at: Instant | None
    last_visit_at: Instant | None
    hours_since_last_visit: Number | None


class CoverageFeature(CodedFeature[Shape, CoverageProperties]):
    """One area's coverage."""


class Span(Answer):
    """From an instant (included) to another (excluded)."""

    from_: Instant = Field(alias="from")
    to: Instant


class LabelledSpan(Span):
    """A period with its name (the shift's, the day's or the week's)."""

    label: str | None


class CoverageCollection(FeatureCollection[CoverageFeature]):
    """Coverage per area of a level in a period."""

    period: LabelledSpan
    level: Level


GapKind = Literal["weekly", "shift", "coverage"]


class GapProperties(Answer):
    """An area needing a visit and why."""

    rank: int = Field(description="1: the most urgent")
    code: str
    name: str
    level: Level
    parent_code: str | None
    ancestors: list[str]
    colour: Colour | None = Field(description="its latest risk colour")
    gaps: list[GapKind] = Field(
        description="weekly: no visit in the week; shift: red or orange without a visit this "
        "shift; coverage: covered share under the bar"
    )
    last_visit_at: Instant | None
    last_patrol_at: Instant | None
    last_checkin_at: Instant | None
    hours_since_last_visit: Number | None
    covered_share: Number | None
    visits: int | None
    checkins: int | None


class GapFeature(CodedFeature[Shape, GapProperties]):
    """A gap."""


class GapCounts(Answer):
    """How many areas have each kind of gap."""

    weekly: int
    shift: int
    coverage: int


class GapCollection(FeatureCollection[GapFeature]):
    """The ranked gap list as of ``at``."""

    at: Instant
    level: Level
    week: Span
    coverage_window: Span
    shift: LabelledSpan
    counts: GapCounts
