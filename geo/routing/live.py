"""The live picture of a shift: where each unit on duty is, and what is still to patrol.

A unit is on duty when the register has it working the current shift, or when it has sent
fixes in it. Each has its latest fix this shift (time, age, WGS84 position) and, when the plan
being followed names it, whether that fix is on the plan: within :data:`OFF_PLAN_M` of its
planned path. The plan followed is the last saved plan of the shift (else the last made).
Beside the units, the red and orange micro-grids not yet patrolled this shift (the coverage gap
list's ``shift`` gaps, within the caller's area).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from geo import clock
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import shift_names, shift_number, shift_of
from geo.database import sql
from geo.settings import Settings

OFF_PLAN_M = 150.0
"""A fix further than this from the unit's planned path is off its plan: a block's length in
the demo district, well beyond GPS noise (a few metres) and a vehicle's cover disc (50 m)."""


def live_view(engine: Engine, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """The shift holding ``now``: ``shift`` (start, end, number, name), ``plan_id`` (or None),
    ``units`` (each ``name``, ``kind``, ``registered``, ``fix`` (None or ``t``, ``age_s``,
    ``lon``, ``lat``), ``on_plan`` (None when no plan names it or it sent no fix)) and
    ``unpatrolled``: the red/orange micro-grids not visited this shift, GeoJSON."""
    shift = shift_of(now, settings)
    number = shift_number(now, settings)
    zone = clock.zone(settings.timezone)
    with engine.connect() as conn:
        plan_id = conn.execute(
            sql("live_plan", "geo.routing"), {"region": settings.region, "now": now}
        ).scalar()
        rows = conn.execute(
            sql("live_units", "geo.routing"),
            {
                "region": settings.region,
                "start": shift.start,
                "now": now,
                "shift": number,
                "plan_id": plan_id,
            },
        ).all()
    units = []
    for r in rows:
        fix = None
        if r.fixed_at is not None:
            fix = {
                "t": r.fixed_at.astimezone(zone).isoformat(),
                "age_s": max(0, round((now - r.fixed_at).total_seconds())),
                "lon": float(r.lon),
                "lat": float(r.lat),
            }
        on_plan = None if not r.planned or r.off_m is None else bool(r.off_m <= OFF_PLAN_M)
        units.append(
            {
                "name": str(r.name),
                "kind": str(r.kind),
                "registered": bool(r.registered),
                "fix": fix,
                "on_plan": on_plan,
                "off_plan_m": round(float(r.off_m), 1) if r.off_m is not None else None,
            }
        )
    gaps = json.loads(gaps_geojson(engine, settings, at=now))
    gaps["features"] = [f for f in gaps["features"] if "shift" in f["properties"]["gaps"]]
    return {
        "shift": {
            "start": shift.start.astimezone(zone).isoformat(),
            "end": shift.end.astimezone(zone).isoformat(),
            "number": number,
            "name": shift_names(settings.coverage)[number - 1],
        },
        "as_of": now.astimezone(zone).isoformat(),
        "plan_id": plan_id,
        "units": units,
        "unpatrolled": gaps,
    }
