"""Patrol route plans as stored and as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from api.models.common import Answer, Feature, FeatureCollection, Instant, LineString, Number, Point
from api.models.coverage import GapCollection
from geo.routing.network import UnitKind


class Shift(Answer):
    """The shift planned, local time."""

    start: Instant
    end: Instant


class Station(Answer):
    """A unit's station (a POI of kind ``station``)."""

    id: str = Field(description="its poi_id")
    name: str | None


class PlacedStation(Station):
    """A unit's station with its point."""

    geometry: Point | None


class StopTimes(Answer):
    """One planned stop: what it is, when the unit gets there, waits, starts and leaves."""

    seq: int = Field(description="1: the first stop after the station")
    candidate_id: str
    kind: str
    label: str
    risk: Number = Field(description="what visiting it is worth")
    window: str | None = Field(description="the time window it is visited in, 'HH:MM-HH:MM'")
    travel_s: int = Field(description="travel from the stop (or station) before")
    arrival: Instant
    start: Instant
    departure: Instant
    wait_s: int
    dwell_s: int


class Stop(StopTimes):
    """A planned stop with its point and the road distance to it."""

    geometry: Point | None
    distance_m: Number


class Leg(Answer):
    """The road travel into stop ``seq`` (the last leg: back to the station)."""

    seq: int
    travel_s: int
    distance_m: Number
    edge_ids: list[int] = Field(description="the road edges followed, in order")


class UnitTimes(Answer):
    """A unit's route without its stops: when it leaves, returns, and what it covers."""

    name: str
    kind: UnitKind
    station: Station
    depart: Instant
    return_: Instant = Field(alias="return")
    back_travel_s: int
    duration_s: int
    travel_s: int
    risk_covered: Number


class UnitRoute(UnitTimes):
    """A unit's route: its stops in order, its legs and its path along the roads."""

    station: PlacedStation
    stops: list[Stop]
    path: LineString | None = Field(description="the legs joined; null: no road travel")
    legs: list[Leg]
    distance_m: Number


class LeftOut(Answer):
    """A candidate stop not planned, and why."""

    candidate_id: str
    kind: str
    label: str
    risk: Number | None
    window: str | None
    reason: str
    reason_code: str = Field(description="the reason's code, for pages to write it in any language")
    reason_params: dict[str, Any] = Field(description="the values the reason names")


class PlanSummary(Answer):
    """The solver's run and the risk covered."""

    solver: str
    solve_s: Number
    candidates: int
    stops_considered: int
    stops_planned: int
    risk_total: Number
    risk_covered: Number
    share_covered: Number | None = Field(description="null when there was no risk to cover")


class Plan(Answer):
    """A stored route plan."""

    id: int
    created_at: Instant
    saved_at: Instant | None = Field(description="None for a draft not saved")
    based_on: int | None = Field(description="the plan it re-planned, if any")
    request: dict[str, Any] = Field(description="the request as asked")
    shift: Shift
    units: list[UnitRoute]
    left_out: list[LeftOut]
    summary: PlanSummary


class PathProperties(UnitTimes):
    """A unit's path."""

    feature: Literal["path"]
    unit_index: int = Field(description="0: the first unit of the request")
    distance_m: Number


class StationProperties(Answer):
    """A unit's station."""

    feature: Literal["station"]
    unit_index: int
    seq: int = Field(description="0: leaving it; the last: back at it")
    unit: str
    station: Station


class StopProperties(StopTimes):
    """A planned stop."""

    feature: Literal["stop"]
    unit_index: int
    unit: str


class PathFeature(Feature[LineString | None, PathProperties]):
    """A unit's path along the roads."""


class PointFeature(Feature[Point, StationProperties | StopProperties]):
    """A unit's station or stop."""


PlanFeature = Annotated[PathFeature | PointFeature, Field(union_mode="left_to_right")]


class PlanCollection(FeatureCollection[PlanFeature]):
    """A stored plan as GeoJSON: each unit's path, then its station and stops."""

    plan_id: int


class PlanSaved(Answer):
    """A plan kept: when."""

    saved_at: Instant


ReviewStatus = Literal["reached", "late", "missed", "pending"]


class ReviewStop(Answer):
    """A planned stop against the unit's track."""

    seq: int
    candidate_id: str
    label: str
    risk: Number
    planned_start: Instant
    dwell_s: int
    arrived: Instant | None = Field(description="the first stay long enough, if any")
    stayed_s: int = Field(description="the longest stay within the stop's radius")
    late_s: int | None
    status: ReviewStatus


class ReviewUnit(Answer):
    """A unit's planned stops, each judged."""

    name: str
    kind: UnitKind
    stops: list[ReviewStop]


class ReviewSummary(Answer):
    """How many stops were reached, late, missed or pending, and the risk covered."""

    reached: int
    late: int
    missed: int
    pending: int
    risk_planned: Number = Field(description="of the stops no longer pending")
    risk_covered: Number
    share_covered: Number | None = Field(description="None while nothing is due")


class PlanReview(Answer):
    """A plan against what the tracks show, as of ``as_of``."""

    plan_id: int
    shift: Shift
    as_of: Instant
    units: list[ReviewUnit]
    summary: ReviewSummary


class LiveShift(Shift):
    """The shift holding now."""

    number: int
    name: str


class LiveFix(Answer):
    """A unit's latest position this shift."""

    t: Instant
    age_s: int
    lon: Number
    lat: Number


class LiveUnit(Answer):
    """A unit on duty: where it was last seen and whether that is on its plan."""

    name: str
    kind: UnitKind
    registered: bool = Field(description="false: seen in the tracks only")
    fix: LiveFix | None
    on_plan: bool | None = Field(description="None when no plan names it or it sent no fix")
    off_plan_m: Number | None


class Live(Answer):
    """The units on duty now and the red/orange micro-grids not yet patrolled this shift."""

    shift: LiveShift
    as_of: Instant
    plan_id: int | None
    units: list[LiveUnit]
    unpatrolled: GapCollection
