"""Importing the district's reference layers: buildings (the address gazetteer), roads, POIs.

Rows are upserted by their id, so re-importing a file changes nothing; each row that cannot be
used is reported with its reason and the others load (the layers have no cross-row rules).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text

from geo.errors import InputError, Problem
from geo.intake import Features, open_table, plain_value
from geo.intake.fields import ColumnMapping, mapped_columns
from geo.report import ImportReport, record_run
from geo.settings import Settings


@dataclass(frozen=True)
class LayerSpec:
    """How one reference layer maps onto its table."""

    table: str
    id_column: str
    geom_types: tuple[str, ...]
    columns: dict[str, str]  # table column -> SQL type used to cast the text value
    multi: bool = False

    @property
    def all_columns(self) -> list[str]:
        """The id column and the attribute columns, in table order."""
        return [self.id_column, *self.columns]


LAYERS: dict[str, LayerSpec] = {
    "buildings": LayerSpec(
        table="buildings",
        id_column="building_id",
        geom_types=("Polygon", "MultiPolygon"),
        columns={"address": "text", "name": "text", "floors": "integer", "residents": "integer"},
        multi=True,
    ),
    "roads": LayerSpec(
        table="roads",
        id_column="road_id",
        geom_types=("LineString",),
        columns={
            "name": "text",
            "road_class": "text",
            "oneway": "boolean",
            "maxspeed_kmh": "double precision",
            "lanes": "integer",
        },
    ),
    "pois": LayerSpec(
        table="pois",
        id_column="poi_id",
        geom_types=("Point",),
        columns={"kind": "text", "name": "text"},
    ),
}


def _check_geometry(geom: BaseGeometry | None, spec: LayerSpec) -> str:
    if geom is None or geom.is_empty:
        return "no geometry"
    if geom.geom_type not in spec.geom_types:
        return f"geometry is a {geom.geom_type}, expected {' or '.join(spec.geom_types)}"
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return "geometry has NaN or infinite coordinates"
    if not geom.is_valid:
        return f"invalid geometry ({shapely.is_valid_reason(geom)})"
    return ""


def _mapped(frame: gpd.GeoDataFrame, spec: LayerSpec, mapping: ColumnMapping) -> gpd.GeoDataFrame:
    """The frame with the mapped fields under their table columns' names.

    Raises
    ------
    InputError
        The mapping names a field the file lacks, several fields, or a column the table lacks.
    """
    attrs = [str(c) for c in frame.columns if c != frame.geometry.name]
    known = set(spec.all_columns)
    renames: dict[str, str] = {}
    dropped = []
    for name, indexes in mapped_columns(attrs, mapping).items():
        if name not in known:
            msg = f"{spec.table} have no column {name!r} (columns: {', '.join(spec.all_columns)})"
            raise InputError(msg, code="mapping_field_unknown", params={"field": name})
        if len(indexes) > 1:
            msg = f"{name!r} can be read from one field only, not {mapping[name]!r}"
            raise InputError(msg, code="mapping_one_column", params={"field": name})
        if indexes:
            renames[attrs[indexes[0]]] = name
        if name in attrs and attrs.index(name) not in indexes:
            dropped.append(name)  # a field of the column's own name the mapping set aside
    frame = frame.drop(columns=[c for c in dropped if c not in renames])
    return frame.rename(columns=renames)


def import_layer(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    kind: str,
    crs: str | int | None = None,
    source_name: str | None = None,
    mapping: ColumnMapping | None = None,
) -> ImportReport:
    """Import a buildings, roads or POI file; every unusable row is reported, the rest load.

    ``mapping`` names the file's field of a table column (``building_id`` → ``编号``; None: the
    file has none); a column it does not name is read from the field of its own name.
    """
    if kind not in LAYERS:
        msg = f"unknown layer {kind!r}: use one of {', '.join(LAYERS)}"
        raise InputError(msg)
    spec = LAYERS[kind]
    table = open_table(path, crs, Features(srid=settings.srid))
    frame = _mapped(next(table.batches), spec, mapping or {})
    if spec.id_column not in frame.columns:
        fields = ", ".join(map(str, frame.columns))
        msg = f"{path.name}: no {spec.id_column!r} field (fields: {fields})"
        raise InputError(msg)
    report = ImportReport(
        kind=kind, source=source_name or path.name, crs=table.crs.name, warnings=table.warnings
    )
    attrs = [c for c in frame.columns if c != frame.geometry.name]
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row, cells in zip(frame.index, frame.to_dict("records"), strict=True):
        ident = plain_value(cells.get(spec.id_column))
        key = None if ident is None else str(ident).strip()
        if not key:
            report.rejected.append(Problem(row, None, f"missing {spec.id_column}"))
            continue
        if key in seen:
            report.rejected.append(
                Problem(row, key, f"duplicate id (first seen at row {seen[key]})")
            )
            continue
        seen[key] = row
        geom = cells[frame.geometry.name]
        reason = _check_geometry(geom, spec)
        if reason:
            report.rejected.append(Problem(row, key, reason))
            continue
        if spec.multi:
            geom = shapely.multipolygons(shapely.get_parts(geom))
        plain = {c: plain_value(cells.get(c)) for c in attrs if c != spec.id_column}
        extra = {c: v for c, v in plain.items() if c not in spec.columns and v is not None}
        rows.append(
            {
                "region": settings.region,
                "ident": key,
                **{c: plain.get(c) for c in spec.columns},
                "props": json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str),
                "wkb": shapely.to_wkb(geom),
                "srid": settings.srid,
            }
        )
    cols = list(spec.columns)
    # Identifiers below come from LAYERS, never from input.
    values = ", ".join(f"CAST(:{c} AS {t})" for c, t in spec.columns.items())
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*cols, "props", "geom"])
    compare_old = ", ".join([*(f"t.{c}" for c in cols), "t.props", "ST_AsBinary(t.geom)"])
    compare_new = ", ".join(
        [*(f"EXCLUDED.{c}" for c in cols), "EXCLUDED.props", "ST_AsBinary(EXCLUDED.geom)"]
    )
    upsert = text(
        f"INSERT INTO {spec.table} AS t (region, {spec.id_column}, {', '.join(cols)}, props, geom) "  # noqa: S608
        f"VALUES (:region, :ident, {values}, CAST(:props AS jsonb), ST_GeomFromWKB(:wkb, :srid)) "
        f"ON CONFLICT (region, {spec.id_column}) DO UPDATE SET {updates} "
        f"WHERE ({compare_old}) IS DISTINCT FROM ({compare_new}) "
        "RETURNING (xmax = 0) AS inserted"
    )
    with engine.begin() as conn:
        for params in rows:
            inserted = conn.execute(upsert, params).scalar()
            if inserted is None:
                report.unchanged += 1
            elif inserted:
                report.inserted += 1
            else:
                report.updated += 1
        record_run(conn, region=settings.region, sha256=table.digest, report=report)
    return report
