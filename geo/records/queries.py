"""Reading records back: filtered, paged GeoJSON of incidents or hazards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine

from geo import clock
from geo.areas import require_area
from geo.assessment import band_bounds
from geo.errors import InputError
from geo.records.checks import Checks, times
from geo.records.kinds import kind_sql, record_kind
from geo.records.vocabulary import type_lookup
from geo.settings import Settings


def list_records(
    engine: Engine,
    settings: Settings,
    *,
    kind: str,
    area: str | None = None,
    types: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
    status: str | None = None,
    outside: bool = False,
    limit: int = 1000,
    offset: int = 0,
) -> str:
    """Records as a GeoJSON FeatureCollection (EPSG:4326) with ``total``, ``limit``, ``offset``.

    Parameters
    ----------
    area
        Only records in this area or any of its descendants (by ``area_path``).
    types
        Incidents of these type codes (or Chinese/English names); hazards of these categories.
    start, end
        ``[start, end)`` on the occurrence (incidents) or identification (hazards) time, ISO 8601;
        a time without offset is in ``settings.timezone``.
    status
        Hazards only: ``open`` or ``closed``.
    outside
        Only records outside every area (``area_code`` null).

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    InputError
        A filter value is not valid.
    """
    record = record_kind(kind)
    if status is not None and (kind != "hazards" or status not in {"open", "closed"}):
        msg = f"status {status!r}: only hazards have a status, open or closed"
        raise InputError(msg)
    zone = clock.zone(settings.timezone)
    bounds: list[float | None] = []
    for name, value in (("from", start), ("to", end)):
        if value is None:
            bounds.append(None)
            continue
        checks = Checks(1)
        seconds = times(np.array([value], dtype=object), name, zone, checks)
        if not checks.good[0]:
            raise InputError(str(checks.reasons[0]))
        bounds.append(float(seconds[0]))
    with engine.connect() as conn:
        require_area(conn, settings.region, area)
        codes = list(types)
        if kind == "incidents" and codes:
            lookup = type_lookup(conn)
            unknown = [t for t in codes if t.casefold() not in lookup]
            if unknown:
                msg = f"unknown incident type(s) {unknown}"
                raise InputError(msg)
            codes = [lookup[t.casefold()] for t in codes]
        params: dict[str, Any] = {
            "region": settings.region,
            "area": area,
            "types": codes or None,
            "start": bounds[0],
            "end": bounds[1],
            "outside": outside,
            "limit": limit,
            "offset": offset,
            "count_cap": settings.db.list_count_cap,
        }
        if "status" in record.filters:
            params["status"] = status
        if kind == "hazards":
            params |= band_bounds(settings.risk)
        return str(conn.execute(kind_sql("list", record.name), params).scalar_one())
