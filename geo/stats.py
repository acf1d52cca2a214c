"""The figures leaders report: cases per area and period, year on year, and the "three zeros".

For an area (any level; everything under it counts, by the incident's ``area_path``) and a
period of local days ``[from, to]``:

* cases received in the period, how many of them are resolved (now), the resolution rate
  ``resolved / received``, the median time from receipt to resolution (hours), and how many are
  overdue (geo/cases.py defines it); in total, by incident type, by intake platform, by
  responsible level-3 grid and by month;
* the same for the same days a year earlier (29 February maps to the 28th) and the change in
  percent, ``(current - previous) / previous * 100``, as the sub-district reports "police calls
  down 13 %, fires down 39.02 %";
* incidents of every type (the whole register, not only cases) with the same comparison;
* the "three zeros" (三零) of each level-3 grid: zero petitions (零上访), zero accidents (零事故),
  zero criminal cases (零案件) in the period, from the incidents whose type counts against that
  goal (``incident_types.zero``, migration 0002).

A ratio over nothing is not applicable, never a division by zero: with no cases the resolution
rate is ``None`` and ``rate_applicable`` is false; with nothing a year earlier the change is
``None``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, text

from geo import clock
from geo.cases import PLATFORMS, area_row, day_bounds
from geo.database import sql
from geo.settings import Settings

__all__ = ["case_stats", "change_pct", "figures", "year_earlier"]

Counts = tuple[int, int, int, float | None]
"""received, resolved, overdue, median hours to resolve."""

EMPTY: Counts = (0, 0, 0, None)


def year_earlier(day: date) -> date:
    """The same day a year earlier; 29 February becomes the 28th."""
    if day.month == 2 and day.day == 29:
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


def change_pct(current: float, previous: float) -> float | None:
    """Change in percent from ``previous`` to ``current``, 2 decimals; None when previous is 0."""
    if previous == 0:
        return None
    return round((current - previous) / previous * 100.0, 2)


def figures(counts: Counts) -> dict[str, Any]:
    """Received, resolved, the resolution rate (percent, 2 decimals), median hours, overdue.

    The rate is ``None`` with ``rate_applicable`` false when nothing was received.
    """
    received, resolved, overdue, median_hours = counts
    return {
        "received": received,
        "resolved": resolved,
        "resolution_rate_pct": round(resolved / received * 100.0, 2) if received else None,
        "rate_applicable": received > 0,
        "median_hours_to_resolve": round(median_hours, 2) if median_hours is not None else None,
        "overdue": overdue,
    }


def _compared(current: Counts, previous: Counts) -> dict[str, Any]:
    now, before = figures(current), figures(previous)
    rates = (now["resolution_rate_pct"], before["resolution_rate_pct"])
    return {
        **now,
        "previous": before,
        "change_pct": {
            key: change_pct(now[key], before[key]) for key in ("received", "resolved", "overdue")
        },
        "resolution_rate_change_points": (
            round(rates[0] - rates[1], 2) if rates[0] is not None and rates[1] is not None else None
        ),
    }


def _months(start: date, end: date) -> list[str]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def case_stats(
    engine: Engine,
    settings: Settings,
    *,
    area: str | None,
    start: date,
    end: date,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The statistics of an area and a period of local days ``[start, end]``, year on year.

    Parameters
    ----------
    area
        An area code of any level (``None``: the whole region).
    start, end
        The first and last local day of the period.
    now
        The instant "resolved" and "overdue" are judged at (default: now).

    Returns
    -------
    dict
        ``cases`` (figures with ``previous``, ``change_pct`` and
        ``resolution_rate_change_points``), ``by_type``, ``by_platform``, ``by_grid`` (the same
        per key), ``by_month``, ``incidents`` (per type, year on year) and ``three_zero``.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    InputError
        ``start`` is after ``end``.
    """
    instant = now if now is not None else clock.utcnow()
    prev_start, prev_end = year_earlier(start), year_earlier(end)
    lo, hi = day_bounds(settings, start, end)
    prev_lo, prev_hi = day_bounds(settings, prev_start, prev_end)
    params = {
        "region": settings.region,
        "area": area,
        "start": lo,
        "end": hi,
        "prev_start": prev_lo,
        "prev_end": prev_hi,
        "now": instant,
        "zone": settings.timezone,
    }
    with engine.connect() as conn:
        place = dict(area_row(conn, settings, area)) if area is not None else None
        grouped: dict[tuple[str, str | None], dict[str, Counts]] = {}
        for row in conn.execute(sql("stats_cases"), params).mappings():
            counts: Counts = (
                int(row["received"]),
                int(row["resolved"]),
                int(row["overdue"]),
                float(row["median_hours"]) if row["median_hours"] is not None else None,
            )
            grouped.setdefault((row["dimension"], row["key"]), {})[row["period"]] = counts
        types = {
            r["code"]: r
            for r in conn.execute(
                text("SELECT code, name_zh, name_en FROM incident_types")
            ).mappings()
        }
        grid_names: dict[str, str] = {
            str(code): str(name)
            for code, name in conn.execute(
                text("SELECT code, name FROM areas WHERE region = :r AND level = 'grid3'"),
                {"r": settings.region},
            )
        }
        monthly = conn.execute(sql("stats_monthly"), params).mappings().all()
        incidents = conn.execute(sql("stats_incidents"), params).mappings().all()
        zeros = conn.execute(sql("stats_three_zero"), params).mappings().all()

    def per(dimension: str) -> list[dict[str, Any]]:
        rows = []
        for (dim, key), periods in grouped.items():
            if dim != dimension:
                continue
            entry: dict[str, Any] = {"key": key}
            if dimension == "type":
                kind = types[str(key)]
                entry |= {"name_zh": kind["name_zh"], "name_en": kind["name_en"]}
            elif dimension == "platform":
                entry |= {"name_zh": PLATFORMS[str(key)][0], "name_en": PLATFORMS[str(key)][1]}
            else:
                entry["name"] = grid_names.get(key) if key is not None else None
            entry |= _compared(periods.get("current", EMPTY), periods.get("previous", EMPTY))
            rows.append(entry)
        return sorted(rows, key=lambda e: (-e["received"], str(e["key"])))

    total = grouped.get(("total", None), {})
    by_month = {m: {"received": 0, "resolved": 0} for m in _months(start, end)}
    previous_month = {m: {"received": 0, "resolved": 0} for m in _months(prev_start, prev_end)}
    for row in monthly:
        target = by_month if row["current"] else previous_month
        target[row["month"]] = {"received": int(row["received"]), "resolved": int(row["resolved"])}
    grids = [
        {
            "code": z["code"],
            "name": z["name"],
            "petitions": int(z["petitions"]),
            "accidents": int(z["accidents"]),
            "cases": int(z["cases"]),
            "zero_petitions": z["petitions"] == 0,
            "zero_accidents": z["accidents"] == 0,
            "zero_cases": z["cases"] == 0,
            "met": (z["petitions"] == 0) + (z["accidents"] == 0) + (z["cases"] == 0),
        }
        for z in zeros
    ]
    return {
        "area": (
            {"code": place["code"], "name": place["name"], "level": place["level"]}
            if place is not None
            else None
        ),
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "previous_period": {"from": prev_start.isoformat(), "to": prev_end.isoformat()},
        "as_of": instant.isoformat(),
        "cases": _compared(total.get("current", EMPTY), total.get("previous", EMPTY)),
        "by_type": per("type"),
        "by_platform": per("platform"),
        "by_grid": per("grid"),
        "by_month": {"current": by_month, "previous": previous_month},
        "incidents": [
            {
                "type": r["type"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "count": int(r["current"]),
                "previous": int(r["previous"]),
                "change_pct": change_pct(int(r["current"]), int(r["previous"])),
            }
            for r in incidents
        ],
        "three_zero": {
            "grids": grids,
            "summary": {
                "grids": len(grids),
                "all_three": sum(g["met"] == 3 for g in grids),
                "zero_petitions": sum(g["zero_petitions"] for g in grids),
                "zero_accidents": sum(g["zero_accidents"] for g in grids),
                "zero_cases": sum(g["zero_cases"] for g in grids),
            },
        },
    }
