"""A plan against what happened: which planned stops each unit reached, late, or missed.

For a past or running shift, each planned stop is judged from its unit's GPS fixes (the unit is
the plan's unit name, the name its tracks carry):

- ``reached``: the unit stayed within the stop's radius for at least the planned stay, and that
  stay began no later than :data:`LATE_AFTER_S` after the planned start;
- ``late``: such a stay, begun later than that;
- ``missed``: no stay long enough (the longest stay there, if any, is told);
- ``pending``: the shift is still running and the stop's planned departure is still ahead.

A stop's radius is the unit's cover radius (settings ``cover_radius_m_*``, the disc a fix
covers) plus the stop's distance from the road network: the planner routes a unit to the
nearest road vertex, so a unit that came there and stayed did what was asked. A stay is a run of
consecutive fixes inside the radius, broken where fixes are further apart than the track gap
(``track_gap_s``); its length is from its first fix to its last, so fixes every minute measure
a stay to within a minute.

The share of the planned risk covered is the risk of the stops reached or late over the risk of
every planned stop judged so far (pending ones are left out of both).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from geo import clock
from geo.database import sql
from geo.routing.plan import get_plan
from geo.settings import Settings

LATE_AFTER_S = 600
"""A stay begun more than 10 minutes after the planned start is late: the dwell band itself is
10-15 minutes (Koper 1995), so a later start no longer overlaps most of the planned stay."""


def _cover(settings: Settings, kind: str) -> float:
    covers = {
        "foot": settings.coverage.cover_radius_m_foot,
        "bicycle": settings.coverage.cover_radius_m_bicycle,
        "vehicle": settings.coverage.cover_radius_m_vehicle,
    }
    return float(covers[kind])


def review_plan(
    engine: Engine, settings: Settings, plan_id: int, *, now: datetime
) -> dict[str, Any]:
    """Judge every planned stop of plan ``plan_id`` against its unit's fixes up to ``now``.

    Returns ``plan_id``, ``shift``, ``as_of``, ``units`` (each with its ``stops``: ``seq``,
    ``candidate_id``, ``label``, ``risk``, ``planned_start``, ``dwell_s``, ``status``,
    ``arrived``, ``stayed_s``, ``late_s``) and ``summary`` (counts by status, ``risk_planned``,
    ``risk_covered``, ``share_covered``).

    Raises
    ------
    NotFoundError
        No plan has that id.
    """
    plan = get_plan(engine, settings, plan_id)
    start = datetime.fromisoformat(plan["shift"]["start"])
    end = datetime.fromisoformat(plan["shift"]["end"])
    until = min(end, now)
    stays: dict[tuple[int, int], list[tuple[datetime, datetime]]] = {}
    if until > start:
        with engine.connect() as conn:
            rows = conn.execute(
                sql("routing_review_visits", "geo.routing"),
                {
                    "plan_id": plan_id,
                    "region": settings.region,
                    "units": [u["name"] for u in plan["units"]],
                    "covers": [_cover(settings, u["kind"]) for u in plan["units"]],
                    "start": start,
                    "until": until,
                    "gap_s": settings.coverage.track_gap_s,
                },
            ).all()
        for r in rows:
            stays.setdefault((int(r.unit_index), int(r.seq)), []).append((r.first, r.last))
    counts = {"reached": 0, "late": 0, "missed": 0, "pending": 0}
    planned = covered = 0.0
    units = []
    for u, unit in enumerate(plan["units"]):
        judged = []
        for stop in unit["stops"]:
            verdict = _judge(stop, stays.get((u, stop["seq"]), []), now=now)
            counts[verdict["status"]] += 1
            if verdict["status"] != "pending":
                planned += float(stop["risk"])
                covered += float(stop["risk"]) if verdict["status"] in {"reached", "late"} else 0
            judged.append(verdict)
        units.append({"name": unit["name"], "kind": unit["kind"], "stops": judged})
    return {
        "plan_id": plan_id,
        "shift": plan["shift"],
        "as_of": until.astimezone(clock.zone(settings.timezone)).isoformat(),
        "units": units,
        "summary": {
            **counts,
            "risk_planned": round(planned, 6),
            "risk_covered": round(covered, 6),
            "share_covered": round(covered / planned, 6) if planned > 0 else None,
        },
    }


def _judge(
    stop: dict[str, Any], stays: list[tuple[datetime, datetime]], *, now: datetime
) -> dict[str, Any]:
    planned_start = datetime.fromisoformat(stop["start"])
    dwell = int(stop["dwell_s"])
    long_enough = [(a, b) for a, b in stays if (b - a).total_seconds() >= dwell]
    longest = max(((b - a).total_seconds() for a, b in stays), default=0.0)
    out: dict[str, Any] = {
        "seq": stop["seq"],
        "candidate_id": stop["candidate_id"],
        "label": stop["label"],
        "risk": stop["risk"],
        "planned_start": stop["start"],
        "dwell_s": dwell,
        "arrived": None,
        "stayed_s": round(longest),
        "late_s": None,
    }
    if long_enough:
        arrived = long_enough[0][0]
        late = int((arrived - planned_start).total_seconds())
        out["arrived"] = arrived.isoformat()
        out["stayed_s"] = round((long_enough[0][1] - arrived).total_seconds())
        out["late_s"] = max(late, 0)
        out["status"] = "late" if late > LATE_AFTER_S else "reached"
    elif now < datetime.fromisoformat(stop["departure"]) + timedelta(seconds=LATE_AFTER_S):
        out["status"] = "pending"
    else:
        out["status"] = "missed"
    return out
