"""The area hierarchy as GeoJSON."""

from __future__ import annotations

from pydantic import Field

from api.models.common import (
    Answer,
    AreaRef,
    CodedFeature,
    FeatureCollection,
    Json,
    Number,
    Shape,
)
from geo.levels import Level


class AreaProperties(Answer):
    """An area in a list."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    ancestors: list[str] = Field(description="codes of every ancestor, top first")
    area_m2: Number | None
    population: int | None


class AreaFeature(CodedFeature[Shape, AreaProperties]):
    """An area in a list."""


class AreaCollection(FeatureCollection[AreaFeature]):
    """Areas, top level first, then by code."""


class AreaDetail(Answer):
    """One area with its own columns, its ancestors (top first) and its children."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    area_m2: Number | None
    population: int | None
    props: Json = Field(description="the columns of the boundary file kept with the area")
    ancestors: list[AreaRef]
    children: list[AreaRef]


class AreaDetailFeature(CodedFeature[Shape, AreaDetail]):
    """One area as a GeoJSON Feature."""
