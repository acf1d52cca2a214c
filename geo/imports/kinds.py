"""What each kind of file holds: its fields, which are required, and what their cells look like.

The data desk offers one kind per importer: boundaries of a level, incidents, hazards, patrol
tracks, grid-head visits (check-ins), and the reference layers (buildings, roads, POIs). Each
field names the role whose header aliases find it (:data:`geo.intake.fields.ALIASES`) and the
shape of its cells, which the column guessing checks on sample rows when no header says
(:mod:`geo.imports.guess`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from geo.errors import InputError
from geo.levels import Level

Pattern = Literal["lon", "lat", "x", "y", "time", "id", "text", "number"]
"""What a field's cells look like: a longitude or latitude in degrees, a projected coordinate,
a time, an identifier, free text, a number."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind.

    Attributes
    ----------
    name
        The field, as the importer and a mapping name it (``occurred_at``).
    role
        The role of :data:`geo.intake.fields.ALIASES` whose headers name it (``area_name`` for
        a boundary's name).
    pattern
        What its cells look like (:data:`Pattern`).
    required
        A file without a column for it cannot be imported (a location is required separately:
        ``lon``/``lat``, ``x``/``y`` or ``address``).
    """

    name: str
    role: str
    pattern: Pattern
    required: bool = False


def _f(
    name: str, pattern: Pattern, *, role: str | None = None, required: bool = False
) -> FieldSpec:
    return FieldSpec(name=name, role=role or name, pattern=pattern, required=required)


_POINT = (_f("lon", "lon"), _f("lat", "lat"), _f("x", "x"), _f("y", "y"))

KIND_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "incidents": (
        _f("source_id", "id"),
        _f("type", "text", required=True),
        _f("occurred_at", "time", required=True),
        _f("reported_at", "time"),
        *_POINT,
        _f("address", "text"),
        _f("description", "text"),
        _f("source", "text"),
    ),
    "hazards": (
        _f("source_id", "id"),
        _f("category", "text", required=True),
        _f("name", "text"),
        _f("identified_at", "time", required=True),
        _f("closed_at", "time"),
        _f("status", "text"),
        _f("method", "text"),
        _f("l", "number"),
        _f("e", "number"),
        _f("c", "number"),
        _f("s", "number"),
        *_POINT,
        _f("address", "text"),
        _f("description", "text"),
        _f("source", "text"),
    ),
    "tracks": (
        _f("unit", "id"),
        _f("kind", "text"),
        _f("time", "time", required=True),
        *_POINT,
    ),
    "visits": (
        _f("person", "text"),
        _f("time", "time", required=True),
        _f("area", "id"),
        *_POINT,
    ),
    "boundaries": (
        _f("code", "id", required=True),
        _f("name", "text", role="area_name"),
        _f("parent", "id"),
        _f("population", "number"),
    ),
    "buildings": (
        _f("building_id", "id", role="code", required=True),
        _f("address", "text"),
        _f("name", "text"),
        _f("floors", "number"),
        _f("residents", "number"),
    ),
    "roads": (
        _f("road_id", "id", role="code", required=True),
        _f("name", "text"),
        _f("road_class", "text"),
        _f("oneway", "text"),
        _f("maxspeed_kmh", "number"),
        _f("lanes", "number"),
    ),
    "pois": (
        _f("poi_id", "id", role="code", required=True),
        _f("kind", "text"),
        _f("name", "text"),
    ),
}
"""Kind → its fields, in the order a page lists them."""

KINDS = tuple(KIND_FIELDS)
"""The kinds of file the data desk imports."""

POINT_KINDS = frozenset({"incidents", "hazards", "tracks", "visits"})
"""Kinds whose rows are points with their coordinates in columns (the others are features)."""


def kind_key(kind: str, level: Level | str | None = None) -> str:
    """The kind as the history and the remembered mappings name it: ``boundaries:micro`` for a
    level's boundaries, else the kind itself.

    Raises
    ------
    InputError
        An unknown kind, or boundaries without a level.
    """
    if kind not in KIND_FIELDS:
        msg = f"unknown kind {kind!r}: use one of {', '.join(KINDS)}"
        raise InputError(msg, code="unknown_kind", params={"kind": kind})
    if kind == "boundaries":
        if level is None:
            msg = "boundaries need a level (subdistrict, grid2, grid3, micro)"
            raise InputError(msg, code="boundaries_need_level")
        return f"boundaries:{Level(level).value}"
    return kind
