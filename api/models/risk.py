"""The four-colour risk map and the reasons behind a colour."""

from __future__ import annotations

from pydantic import Field

from api.models.common import (
    Answer,
    CodedFeature,
    FeatureCollection,
    Instant,
    Json,
    Number,
    Shape,
)
from geo.assessment import Colour
from geo.levels import Level

REASONS = (
    "why the area has its colour, as computed: colour_from, the ranked hazards (hazards, "
    "hazards_total), incidents by type (incidents, incidents_total, weighted_total), the "
    "intensities; a micro-grid adds its incident tier and Gi* hotspot, an area above it its "
    "children and micro_colours"
)


class RiskProperties(Answer):
    """An area's colour in one computation."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    colour: Colour
    score: Number = Field(description="0-100")
    hazard_colour: Colour
    incident_colour: Colour
    previous_colour: Colour | None = Field(description="in the computation before; null: new")
    reasons: Json = Field(description=REASONS)


class RiskFeature(CodedFeature[Shape, RiskProperties]):
    """An area on the risk map."""


class RiskRun(Answer):
    """One computation of the risk map."""

    id: int
    as_of: Instant
    computed_at: Instant
    previous_id: int | None = Field(description="the computation compared with")


class RiskCollection(FeatureCollection[RiskFeature]):
    """The areas of one computation, top level first."""

    run: RiskRun


class Hotspot(Answer):
    """Getis-Ord Gi* of a micro-grid's incident intensity."""

    z: Number
    p: Number
    fdr_p: Number | None = Field(description="the p-value bar after the FDR correction")
    significant: bool | None


class Thresholds(Answer):
    """The settings the computation ran with (null: not recorded by that computation)."""

    lec_bands: list[Number] | None = Field(description="LEC red, orange, yellow minimums")
    ls_bands: list[Number] | None = Field(description="LS red, orange, yellow minimums")
    incident_bounds_km2: list[Number | None] | None
    incident_quantiles: list[Number] | None
    incident_thresholds: list[Number] | None
    fdr_alpha: Number | None
    fdr_p: Number | None
    half_life_days: Number | None
    window_days: Number | None
    type_weights: dict[str, Number] | None


class RiskHistoryEntry(Answer):
    """The area's colour in one computation."""

    run_id: int
    as_of: Instant
    computed_at: Instant
    colour: Colour
    score: Number


class RiskChild(Answer):
    """A direct child of an area in the same computation."""

    code: str
    name: str | None
    colour: Colour
    score: Number


class RiskDetail(Answer):
    """Why an area has its colour in one computation, and its colours before."""

    code: str
    name: str | None = Field(description="null when the area was redrawn away since")
    level: Level
    parent_code: str | None
    area_m2: Number | None
    population: int | None
    colour: Colour
    previous_colour: Colour | None
    score: Number
    hazard_colour: Colour
    incident_colour: Colour
    intensity_km2: Number | None
    smoothed_km2: Number | None
    per_1000: Number | None
    hotspot: Hotspot | None = Field(description="micro-grids only")
    reasons: Json = Field(description=REASONS)
    children: list[RiskChild] = Field(description="the direct children, worst first")
    thresholds: Thresholds
    run: RiskRun
    history: list[RiskHistoryEntry] = Field(description="oldest first")
