"""Incidents and hazards: what a submission did, and the lists as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from api.models.common import (
    Answer,
    FeatureCollection,
    ImportReport,
    Instant,
    Json,
    Number,
    NumberedFeature,
    Page,
    Point,
)
from geo.assessment import Colour

AreaPath = Annotated[
    list[str | None],
    Field(
        description=(
            "codes from the top area down to its micro-grid; a record outside every area is "
            "stored with [null]"
        )
    ),
]


class Placement(Answer):
    """Where one submitted record ended up, or why it was rejected."""

    row: int = Field(description="1-based position in the submitted list")
    source: str | None
    source_id: str | None
    area_code: str | None = Field(description="its micro-grid; null: outside every area")
    area_path: AreaPath
    located_by: str | None = Field(description="coordinates or address")
    rejected: str | None = Field(description="why it was not stored; null: stored")


class SubmitReport(ImportReport):
    """The import report of a submission with the place of each record."""

    records: list[Placement]


class Located(Answer):
    """The members every listed record has: where it is and how that was found."""

    id: int
    source: str
    source_id: str
    address: str | None
    located_by: str | None = Field(description="coordinates or address")
    geocode_score: Number | None = Field(description="address match score, 0-100")
    source_crs: str | None = Field(description="the CRS the coordinates arrived in")
    area_code: str | None = Field(description="its micro-grid; null: outside every area")
    area_path: AreaPath
    ancestors: list[str] = Field(description="the codes above its micro-grid")
    props: Json = Field(description="the record's columns the model does not name")


class IncidentProperties(Located):
    """An incident."""

    type: str = Field(description="type code")
    type_zh: str = Field(description="the type's Chinese name")
    occurred_at: Instant
    reported_at: Instant
    description: str | None


class HazardProperties(Located):
    """A hazard with its assessment (LEC D = L·E·C or LS R = L·S) and the colour of its score."""

    category: str
    name: str
    description: str | None
    method: Literal["LEC", "LS"]
    lec_l: Number | None
    lec_e: Number | None
    lec_c: Number | None
    ls_l: int | None
    ls_s: int | None
    score: Number
    colour: Colour
    status: Literal["open", "closed"]
    identified_at: Instant
    closed_at: Instant | None


class IncidentFeature(NumberedFeature[Point | None, IncidentProperties]):
    """An incident (no geometry: an address that could not be located)."""


class HazardFeature(NumberedFeature[Point | None, HazardProperties]):
    """A hazard (no geometry: an address that could not be located)."""


class RecordPage(Page):
    """A page of records: ``total`` counted no further than a cap."""

    total_exact: bool = Field(description="false: there are more than ``total`` matches")


class IncidentCollection(FeatureCollection[IncidentFeature], RecordPage):
    """A page of incidents, newest first."""


class HazardCollection(FeatureCollection[HazardFeature], RecordPage):
    """A page of hazards, newest first."""
