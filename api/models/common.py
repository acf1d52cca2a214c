"""Pieces every answer shares: numbers, instants, GeoJSON, import reports, the error body."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
"""A JSON number passed on as it came (an integer stays an integer, ``1.0`` stays ``1.0``)."""

Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An instant with its UTC offset (RFC 3339), passed on as PostgreSQL or Python wrote it."""

Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
"""A local calendar day, ``YYYY-MM-DD``."""

Json = dict[str, Any]
"""A JSON object whose keys are the data's own (a record's extra columns, a stored request)."""


class Answer(BaseModel):
    """The base of every answer model: a key the model does not name is an error, so the spec
    lists every key a client gets (the fuzz test checks answers against it)."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- GeoJSON (RFC 7946)

Position = Annotated[list[Number], Field(min_length=2, max_length=3)]


class Point(Answer):
    """A GeoJSON Point, longitude and latitude in EPSG:4326."""

    type: Literal["Point"]
    coordinates: Position


class LineString(Answer):
    """A GeoJSON LineString in EPSG:4326."""

    type: Literal["LineString"]
    coordinates: list[Position]


class Polygon(Answer):
    """A GeoJSON Polygon in EPSG:4326: the outer ring, then the holes."""

    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygon(Answer):
    """A GeoJSON MultiPolygon in EPSG:4326 (every area is stored as one)."""

    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


Shape = Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
"""An area's outline."""

GeometryT = TypeVar("GeometryT")
PropertiesT = TypeVar("PropertiesT")
FeatureT = TypeVar("FeatureT")


class Feature(Answer, Generic[GeometryT, PropertiesT]):
    """A GeoJSON Feature without an id."""

    type: Literal["Feature"]
    geometry: GeometryT
    properties: PropertiesT


class CodedFeature(Answer, Generic[GeometryT, PropertiesT]):
    """A GeoJSON Feature identified by its area's code."""

    type: Literal["Feature"]
    id: str
    geometry: GeometryT
    properties: PropertiesT


class NumberedFeature(Answer, Generic[GeometryT, PropertiesT]):
    """A GeoJSON Feature identified by its row's id."""

    type: Literal["Feature"]
    id: int
    geometry: GeometryT
    properties: PropertiesT


class FeatureCollection(Answer, Generic[FeatureT]):
    """A GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[FeatureT]


class Page(Answer):
    """The paging members of a listed collection."""

    total: int = Field(description="matches in all (see ``total_exact`` where given)")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="matches skipped before this page")


class AreaRef(Answer):
    """An area by code, name and level."""

    code: str
    name: str
    level: str


# --------------------------------------------------------------------------- imports


class Problem(Answer):
    """One finding about one input row or feature."""

    row: int | None = Field(description="1-based row or feature number; null: file-wide")
    ident: str | None = Field(description="the row's code or source id when it has one")
    reason: str = Field(description="what is wrong, naming the offending value")
    code: str | None = Field(
        default=None, description="the reason's stable name (a page words it in its language)"
    )
    params: dict[str, str] = Field(default_factory=dict, description="the values it names")


class Relocation(Answer):
    """How many records a boundary import moved to another micro-grid (or out of every one)."""

    incidents: int
    hazards: int
    fixes: int
    checkins: int


class Candidate(Answer):
    """A value no vocabulary word means, offered as a new synonym."""

    field: str = Field(description="the field it was found in (type)")
    value: str = Field(description="the value as the file writes it")
    count: int = Field(description="rows that hold it")
    rows: list[int] = Field(description="the first few of those rows")


class ImportReport(Answer):
    """What an import did: ``inserted + updated + unchanged`` rows stand for the file in the
    database afterwards; every other row is in ``rejected`` with its reason."""

    kind: str
    source: str
    crs: str
    loaded: int
    inserted: int
    updated: int
    unchanged: int
    rejected: list[Problem]
    warnings: list[Problem]
    relocated: Relocation | None = Field(
        default=None, description="only when a boundary import re-assigned records"
    )
    candidates: list[Candidate] = Field(
        default_factory=list,
        description="values no vocabulary word means (unknown types), offered as synonyms",
    )


# --------------------------------------------------------------------------- errors


class RejectedRow(Answer):
    """One reason an all-or-nothing import was refused."""

    row: int | None
    id: str | None
    reason: str


class ErrorBody(Answer):
    """Every JSON error answer: ``detail`` says what was wrong with which value. A refused
    import adds its ``problems``; a case conflict adds the case's state, version and the
    states allowed next; a refused field write adds ``message`` for the person."""

    detail: str
    problems: list[RejectedRow] | None = Field(
        default=None, description="422 of an import: every row that made it fail"
    )
    case_id: int | None = Field(default=None, description="409: the case in conflict")
    state: str | None = Field(default=None, description="409: the case's state now")
    version: int | None = Field(default=None, description="409: the case's version now")
    allowed: list[str] | None = Field(default=None, description="409: the states allowed next")
    message: str | None = Field(
        default=None,
        description=(
            "400 of a field write (api/routers/field.py): the refusal in the caller's language, "
            "e.g. the micro-grid and grid where a point outside their area lies"
        ),
    )


class ValidationIssue(Answer):
    """One request value FastAPI could not read (its standard 422 item)."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: Json | None = None
    url: str | None = None


class ValidationErrorBody(Answer):
    """A 422: either the request's values that could not be read, or an import refused with
    its ``problems``."""

    detail: list[ValidationIssue] | str
    problems: list[RejectedRow] | None = None


class GeoJSONResponse(JSONResponse):
    """GeoJSON text as PostGIS built it, sent as it is (``application/geo+json``).

    A JSON response (so the spec shows the route's model as its body) that does not encode:
    the text is already JSON, and parsing it to serialise it again would only cost time.
    """

    media_type = "application/geo+json"

    def render(self, content: str) -> bytes:
        """The text, UTF-8 encoded."""
        return content.encode()
