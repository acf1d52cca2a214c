"""Importing area boundaries of one level, validated as a whole before anything is written.

The checks, each reported per feature (row and code):

- a code and a name; codes unique in the file and not used at another level;
- a polygonal, finite, non-degenerate geometry; an invalid one is repaired when the repair keeps
  its area (a spike, a self-touching ring: a warning) and refused when it would not (a bow-tie);
- a parent at the level above, named by the parent field or, without one, the parent the area
  overlaps most; none is an orphan;
- not sticking out of the parent, not overlapping a sibling, and the children of each parent
  covering it without gaps (each beyond a tolerance in m², a setting);
- a changed boundary still holding the children already stored under it.

An import with any problem writes nothing; a repeated import of the same file changes nothing; a
changed boundary updates its row. An import that inserted or changed areas re-assigns every
stored incident, hazard, patrol fix and check-in to its micro-grid (and ancestors) under the new
boundaries in the same transaction (:func:`geo.locate.relocate_records`), and says how many moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.database import sql
from geo.errors import ImportRejectedError, InputError, Problem
from geo.intake import ALIASES, Features, cell_text, find_column, open_table, plain_value
from geo.intake.fields import ColumnMapping, mapped_columns
from geo.levels import Level
from geo.locate import lock_areas, lock_cells, relocate_records
from geo.report import ImportReport, record_run
from geo.settings import AreaSettings, Settings

# A repair may change the area by at most this share before it counts as unsafe.
SAFE_REPAIR_AREA_SHARE = 1e-3


@dataclass
class _Feature:
    row: int
    code: str
    name: str
    parent: str | None
    population: int | None
    props: dict[str, Any]
    geom: MultiPolygon
    parent_from_field: bool = False


@dataclass
class _Context:
    """What the database already holds that this import must fit."""

    parents: dict[str, MultiPolygon]
    siblings: dict[str, tuple[str | None, MultiPolygon]]  # same level, not in the file
    children: dict[str, list[tuple[str, MultiPolygon]]]  # stored children of codes in the file
    taken: dict[str, str] = field(default_factory=dict)  # code -> level, for codes at other levels


def _pick_field(columns: Iterable[str], role: str, given: str | None) -> str | None:
    cols = list(columns)
    if given:
        if given not in cols:
            msg = f"no field {given!r} in the file (fields: {', '.join(cols)})"
            raise InputError(msg)
        return given
    return find_column(cols, ALIASES[role])


def _polygonal_parts(geom: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    nested = [
        q
        for p in shapely.get_parts(geom)
        if not isinstance(p, Polygon)
        for q in shapely.get_parts(p)
        if isinstance(q, Polygon)
    ]
    return MultiPolygon(parts + nested)


def repair_geometry(geom: BaseGeometry, *, min_area: float) -> tuple[MultiPolygon | None, str]:
    """Check one area geometry, repairing it where that is safe.

    A repair is safe when it keeps the area the rings enclose as drawn (GEOS measures an invalid
    polygon ring by ring with the shoelace formula): removing a spike or splitting a ring that
    touches itself keeps it, while untwisting a bow-tie does not (its two lobes cancel).

    Returns
    -------
    (geometry, message)
        The geometry as a MultiPolygon and a warning (empty when none), or ``None`` and the
        reason for rejecting it.
    """
    if geom is None or geom.is_empty:
        return None, "no geometry"
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        return None, f"geometry is a {geom.geom_type}; an area needs a Polygon or MultiPolygon"
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return None, "geometry has NaN or infinite coordinates"
    warning = ""
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        fixed = _polygonal_parts(shapely.make_valid(geom, method="structure", keep_collapsed=False))
        drawn = abs(geom.area)
        change = abs(fixed.area - drawn)
        if fixed.is_empty or change > SAFE_REPAIR_AREA_SHARE * max(fixed.area, drawn):
            return None, (
                f"invalid geometry ({reason}) that cannot be repaired safely: a repair would "
                f"change its area from {drawn:.1f} m² to {fixed.area:.1f} m²"
            )
        warning = f"invalid geometry ({reason}) repaired; area unchanged at {fixed.area:.1f} m²"
        geom = fixed
    multi = _polygonal_parts(geom)
    if multi.area < min_area:
        return None, (
            f"polygon of {multi.area:.3g} m² is below the minimum area of {min_area} m² "
            "(point-sized or collapsed)"
        )
    return multi, warning


def _parse(
    layer_frame: Any, level: Level, fields: dict[str, str | None], areas: AreaSettings
) -> tuple[list[_Feature], list[Problem], list[Problem]]:
    features: list[_Feature] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    first_row: dict[str, int] = {}
    attr_cols = [c for c in layer_frame.columns if c != layer_frame.geometry.name]
    used = {v for v in fields.values() if v}
    records = layer_frame.to_dict("records")
    for row, cells in zip(layer_frame.index, records, strict=True):
        code = cell_text(cells.get(fields["code"])) if fields["code"] else None
        name = cell_text(cells.get(fields["name"])) if fields["name"] else None
        if code is None:
            problems.append(
                Problem(row, None, f"missing code (field {fields['code'] or 'code'!r})")
            )
            continue
        if code in first_row:
            problems.append(
                Problem(row, code, f"duplicate code {code!r} (first seen at row {first_row[code]})")
            )
            continue
        first_row[code] = row
        if name is None:
            problems.append(
                Problem(row, code, f"missing name (field {fields['name'] or 'name'!r})")
            )
        geom, message = repair_geometry(
            cells[layer_frame.geometry.name], min_area=areas.min_area_m2
        )
        if geom is None:
            problems.append(Problem(row, code, message))
            continue
        if message:
            warnings.append(Problem(row, code, message))
        parent = cell_text(cells.get(fields["parent"])) if fields["parent"] else None
        population = None
        if fields["population"]:
            raw = cells.get(fields["population"])
            try:
                population = None if cell_text(raw) is None else int(float(str(raw)))
            except ValueError:
                problems.append(Problem(row, code, f"population {raw!r} is not a number"))
                continue
        plain = {c: plain_value(cells.get(c)) for c in attr_cols if c not in used}
        props = {c: v for c, v in plain.items() if v is not None}
        features.append(
            _Feature(
                row=row,
                code=code,
                name=name or "",
                parent=None if level is Level.SUBDISTRICT else parent,
                population=population,
                props=props,
                geom=geom,
                parent_from_field=parent is not None,
            )
        )
    return features, problems, warnings


def _load_geoms(conn: Connection, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = conn.execute(text(query), params).all()
    return [(*r[:-1], shapely.from_wkb(bytes(r[-1]))) for r in rows]


def _load_context(conn: Connection, region: str, level: Level, codes: list[str]) -> _Context:
    parents: dict[str, MultiPolygon] = {}
    if level.parent is not None:
        for code, geom in _load_geoms(
            conn,
            "SELECT code, ST_AsBinary(geom) FROM areas WHERE region = :r AND level = :lv",
            {"r": region, "lv": level.parent.value},
        ):
            parents[code] = geom
    siblings = {
        code: (parent, geom)
        for code, parent, geom in _load_geoms(
            conn,
            "SELECT code, parent_code, ST_AsBinary(geom) FROM areas "
            "WHERE region = :r AND level = :lv AND NOT (code = ANY(:codes))",
            {"r": region, "lv": level.value, "codes": codes},
        )
    }
    children: dict[str, list[tuple[str, MultiPolygon]]] = {}
    for code, parent, geom in _load_geoms(
        conn,
        "SELECT code, parent_code, ST_AsBinary(geom) FROM areas "
        "WHERE region = :r AND parent_code = ANY(:codes)",
        {"r": region, "codes": codes},
    ):
        children.setdefault(parent, []).append((code, geom))
    taken: dict[str, str] = dict(
        conn.execute(
            text(
                "SELECT code, level FROM areas "
                "WHERE region = :r AND code = ANY(:codes) AND level <> :lv"
            ),
            {"r": region, "codes": codes, "lv": level.value},
        ).all()
    )
    return _Context(parents=parents, siblings=siblings, children=children, taken=taken)


def _link_parents(features: list[_Feature], level: Level, ctx: _Context) -> list[Problem]:
    """Give every feature its parent: the named one, or the one it overlaps most."""
    if level.parent is None:
        return []
    problems: list[Problem] = []
    parent_level = level.parent.value
    codes = list(ctx.parents)
    tree = shapely.STRtree([ctx.parents[c] for c in codes])
    for f in features:
        if f.parent is not None:
            if f.parent not in ctx.parents:
                problems.append(
                    Problem(
                        f.row,
                        f.code,
                        f"orphan: parent {f.parent!r} is not a {parent_level} area "
                        f"(import the {parent_level} level first)",
                    )
                )
            continue
        hits = tree.query(f.geom, predicate="intersects")
        overlaps = [(shapely.intersection(f.geom, tree.geometries[i]).area, codes[i]) for i in hits]
        best = max(overlaps, default=(0.0, None))
        if best[1] is None or best[0] <= 0:
            problems.append(
                Problem(
                    f.row, f.code, f"orphan: lies in no {parent_level} area and names no parent"
                )
            )
        else:
            f.parent = best[1]
    return problems


def _check_containment(features: list[_Feature], ctx: _Context, tol: float) -> list[Problem]:
    problems = []
    for f in features:
        parent = ctx.parents.get(f.parent) if f.parent else None
        if parent is None:
            continue
        outside = shapely.difference(f.geom, parent).area
        if outside > tol:
            problems.append(
                Problem(
                    f.row,
                    f.code,
                    f"sticks out of its parent {f.parent!r} by {outside:.1f} m² "
                    f"(tolerance {tol} m²)",
                )
            )
    return problems


def _check_overlaps(features: list[_Feature], ctx: _Context, tol: float) -> list[Problem]:
    """Pairs of areas at the level (file and stored) overlapping by more than ``tol`` m²."""
    if not features:  # every feature of the file was refused: no pair to check
        return []
    codes = [f.code for f in features] + list(ctx.siblings)
    geoms = [f.geom for f in features] + [g for _, g in ctx.siblings.values()]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    problems = []
    n_file = len(features)
    for i, j in zip(left, right, strict=True):
        if i >= j or i >= n_file:  # each pair once, and only pairs with a feature of the file
            continue
        shared = shapely.intersection(geoms[i], geoms[j]).area
        if shared > tol:
            where = "in this file" if j < n_file else "already stored"
            problems.append(
                Problem(
                    features[i].row,
                    codes[i],
                    f"overlaps sibling {codes[j]!r} ({where}) by {shared:.1f} m² "
                    f"(tolerance {tol} m²)",
                )
            )
    return problems


def _check_gaps(features: list[_Feature], ctx: _Context, tol: float, srid: int) -> list[Problem]:
    """Parents whose children (in the file and stored) leave part of them uncovered."""
    by_parent: dict[str, list[BaseGeometry]] = {}
    for f in features:
        if f.parent in ctx.parents:
            by_parent.setdefault(f.parent, []).append(f.geom)
    for parent, geom in ctx.siblings.values():
        if parent in by_parent:
            by_parent[parent].append(geom)
    to_wgs84 = Transformer.from_crs(srid, 4326, always_xy=True)
    problems = []
    for parent, geoms in sorted(by_parent.items()):
        gap = shapely.difference(ctx.parents[parent], shapely.union_all(geoms))
        pieces = sorted((p for p in shapely.get_parts(gap) if p.area > tol), key=lambda p: -p.area)
        if not pieces:
            continue
        where = []
        for piece in pieces[:3]:
            pt = piece.representative_point()
            lon, lat = to_wgs84.transform(pt.x, pt.y)
            where.append(f"{piece.area:.1f} m² near ({lon:.6f}, {lat:.6f})")
        total = sum(p.area for p in pieces)
        problems.append(
            Problem(
                None,
                parent,
                f"children leave {total:.1f} m² of parent {parent!r} uncovered in "
                f"{len(pieces)} gap(s): {'; '.join(where)}",
            )
        )
    return problems


def _check_stored_children(features: list[_Feature], ctx: _Context, tol: float) -> list[Problem]:
    problems = []
    for f in features:
        for child, geom in ctx.children.get(f.code, []):
            outside = shapely.difference(geom, f.geom).area
            if outside > tol:
                problems.append(
                    Problem(
                        f.row,
                        f.code,
                        f"the new boundary leaves {outside:.1f} m² of its stored child "
                        f"{child!r} outside",
                    )
                )
    return problems


@dataclass(frozen=True)
class _Written:
    """What a boundary import changed: counts, and what records it can have moved by."""

    inserted: int
    updated: int
    moved: list[str]  # micro-grids inserted or reshaped
    reparented: list[str]  # areas of any level given another parent


def _write(
    conn: Connection, features: list[_Feature], level: Level, settings: Settings
) -> _Written:
    conn.execute(
        text(
            "CREATE TEMP TABLE staged_areas ON COMMIT DROP AS "
            "SELECT region, code, name, level, parent_code, population, props, geom "
            "FROM areas WITH NO DATA"
        )
    )
    conn.execute(
        text(
            "INSERT INTO staged_areas "
            "(region, code, name, level, parent_code, population, props, geom) "
            "VALUES (:region, :code, :name, :level, :parent, :population, "
            "CAST(:props AS jsonb), ST_GeomFromWKB(:wkb, :srid))"
        ),
        [
            {
                "region": settings.region,
                "code": f.code,
                "name": f.name,
                "level": level.value,
                "parent": f.parent,
                "population": f.population,
                "props": json.dumps(f.props, ensure_ascii=False, sort_keys=True),
                "wkb": shapely.to_wkb(f.geom),
                "srid": settings.srid,
            }
            for f in features
        ],
    )
    # What the change can move records by, read before it is made: the new or reshaped
    # micro-grids, and the areas given another parent (a name alone moves nothing).
    moves = conn.execute(
        text(
            "SELECT s.code, a.code IS NULL OR ST_AsBinary(a.geom) <> ST_AsBinary(s.geom), "
            "a.code IS NOT NULL AND a.parent_code IS DISTINCT FROM s.parent_code "
            "FROM staged_areas s LEFT JOIN areas a ON a.region = s.region AND a.code = s.code"
        )
    ).all()
    changed = conn.execute(sql("areas_upsert")).scalars().all()
    conn.execute(sql("areas_ancestors"), {"region": settings.region})
    inserted = sum(1 for c in changed if c)
    return _Written(
        inserted=inserted,
        updated=len(changed) - inserted,
        moved=[code for code, reshaped, _ in moves if reshaped and level is Level.MICRO],
        reparented=[code for code, _, reparented in moves if reparented],
    )


def import_boundaries(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    level: Level,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | int | None = None,
    layer: str | None = None,
    allow_gaps: bool = False,
    source_name: str | None = None,
    mapping: ColumnMapping | None = None,
) -> ImportReport:
    """Import the areas of one level from a vector file, all or nothing.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile or zipped Shapefile.
    level
        The level every feature of the file belongs to.
    code_field, name_field, parent_field
        Field names; by default the first present of the aliases of ``code``, ``area_name`` and
        ``parent`` in :data:`geo.intake.fields.ALIASES`.
    mapping
        The same as a mapping: ``code``, ``name``, ``parent``, ``population`` → field (None:
        the file has none); the ``*_field`` arguments win over it.
    crs
        The coordinates' CRS when the file has none or a wrong one (EPSG code, ``gcj02``, ``bd09``).
    allow_gaps
        Report gaps between siblings as warnings instead of refusing the import (for a level
        delivered in several files).

    Returns
    -------
    ImportReport
        Counts and warnings; when areas were inserted or changed, ``relocated``: the records
        the same transaction moved to another micro-grid.

    Raises
    ------
    ImportRejectedError
        With every problem found; nothing was written.
    """
    table = open_table(path, crs, Features(srid=settings.srid, layer=layer))
    frame = next(table.batches)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    given = dict(mapping or {})

    def pick(name: str, role: str, explicit: str | None) -> str | None:
        if explicit or name not in given:
            return _pick_field(columns, role, explicit)
        mapped = mapped_columns(columns, {name: given[name]})[name]
        if len(mapped) > 1:
            msg = f"{name!r} can be read from one field only, not {given[name]!r}"
            raise InputError(msg, code="mapping_one_column", params={"field": name})
        return columns[mapped[0]] if mapped else None

    fields = {
        "code": pick("code", "code", code_field),
        "name": pick("name", "area_name", name_field),
        "parent": pick("parent", "parent", parent_field),
        "population": pick("population", "population", None),
    }
    if fields["code"] is None and not frame.empty:  # an empty file is refused as such below
        msg = (
            f"{path.name}: no code field found (fields: {', '.join(columns)}); "
            "name it with --code-field"
        )
        raise InputError(msg)
    report = ImportReport(
        kind=f"boundaries:{level.value}",
        source=source_name or path.name,
        crs=table.crs.name,
        warnings=list(table.warnings),
    )
    if frame.empty:
        raise ImportRejectedError(
            report.source, [Problem(None, None, "the file holds no features")]
        )
    features, problems, warnings = _parse(frame, level, fields, settings.areas)
    report.warnings += warnings
    codes = [f.code for f in features]
    with engine.begin() as conn:
        # One boundary import at a time per region (the checks read what the others write),
        # after the imports under way and before those that start later.
        lock_areas(conn, settings, change=True)
        ctx = _load_context(conn, settings.region, level, codes)
        problems += [
            Problem(f.row, f.code, f"code {f.code!r} is already used by a {ctx.taken[f.code]} area")
            for f in features
            if f.code in ctx.taken
        ]
        problems += _link_parents(features, level, ctx)
        problems += _check_containment(features, ctx, settings.areas.containment_tolerance_m2)
        problems += _check_overlaps(features, ctx, settings.areas.sibling_overlap_tolerance_m2)
        gaps = _check_gaps(features, ctx, settings.areas.gap_tolerance_m2, settings.srid)
        if allow_gaps:
            report.warnings += gaps
        else:
            problems += gaps
        problems += _check_stored_children(features, ctx, settings.areas.containment_tolerance_m2)
        if problems:
            problems.sort(key=lambda p: (p.row is None, p.row or 0, p.ident or ""))
            raise ImportRejectedError(report.source, problems)
        # Imports under way finished before the boundary lock was granted (they hold it
        # shared); the cell-lookup lock keeps a lookup being built from the old areas (by
        # gridsafe locate) from being marked valid for the new ones.
        lock_cells(conn, settings)
        written = _write(conn, features, level, settings)
        report.inserted, report.updated = written.inserted, written.updated
        report.unchanged = len(features) - report.inserted - report.updated
        if written.moved or written.reparented:
            report.relocated = relocate_records(
                conn, settings, moved=written.moved, reparented=written.reparented
            )
        record_run(conn, region=settings.region, sha256=table.digest, report=report)
    return report
