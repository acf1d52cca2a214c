"""The gap list: micro-grids that need a visit, ranked by risk and by time since the last visit.

Three kinds of gap (geo/coverage/sql/coverage_gaps.sql):

- **weekly**: no visit in the ``settings.coverage.weekly_visit_days`` days before ``at``, where a
  visit is a grid-head check-in or any patrol fix in the micro-grid (the weekly visit rule,
  每周遍访: the rule is about someone having been there, so a patrol passing through counts);
- **shift**: red or orange in the latest risk computation as of ``at`` (geo/risk, tables of
  migration 0003) and no visit since the current shift began;
- **coverage**: the patrols' covered share of the micro-grid over the
  ``settings.coverage.coverage_gap_window_h`` hours before ``at`` (default a day, all three shifts)
  is below ``settings.coverage.coverage_gap_share``. Asked for a level above the micro-grid, the
  list holds the areas of that level whose share (rolled up as ``GET /api/coverage`` rolls it up:
  :func:`geo.coverage.compute.rollup`) is below it; the two visit rules are about micro-grids.

``at`` is never later than now: a gap list for the future would count the visits that have not
happened yet as missed, so a later ``at`` is taken as now.

Ranked by risk colour (red first; micro-grids without a colour last), then by time since the last
visit, longest first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo import clock
from geo.coverage.compute import compute_micro, rollup
from geo.coverage.periods import last_days, shift_of
from geo.database import sql
from geo.levels import Level
from geo.settings import Settings


def gaps_geojson(
    engine: Engine,
    settings: Settings,
    *,
    at: datetime,
    area: str | None = None,
    level: Level = Level.MICRO,
) -> str:
    """The ranked gap list of the areas of ``level`` within ``area`` (all: None) as of ``at``
    (now at the latest), as GeoJSON.

    Returns
    -------
    str
        A FeatureCollection (EPSG:4326) with ``at``, the level, the window, the shift and the
        count per gap kind; each feature carries ``rank``, ``level``, ``colour``, ``gaps``
        (``weekly``, ``shift``, ``coverage``), ``last_visit_at``, ``hours_since_last_visit``
        and ``covered_share``.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    """
    with engine.begin() as conn:
        return gaps_on(conn, settings, at=at, area=area, level=level)


def gaps_on(
    conn: Connection,
    settings: Settings,
    *,
    at: datetime,
    area: str | None = None,
    level: Level = Level.MICRO,
) -> str:
    """:func:`gaps_geojson` inside the caller's transaction (its temporary tables stay in it)."""
    at = min(at.astimezone(UTC), clock.utcnow())
    week = last_days(at, settings.coverage.weekly_visit_days)
    window = last_days(at, settings.coverage.coverage_gap_window_h / 24)
    shift = shift_of(at, settings)
    # cov_micro's last visits look back beyond its period, so the weekly rule holds too.
    compute_micro(conn, settings, period=window, area=area)
    rollup(conn, settings, level=level, area=area)
    out = conn.execute(
        sql("coverage_gaps", "geo.coverage"),
        {
            "region": settings.region,
            "level": level.value,
            "at": window.end,
            "w0": week.start,
            "c0": window.start,
            "s0": shift.start,
            "s1": shift.end,
            "shift_label": shift.label,
            "min_share": settings.coverage.coverage_gap_share,
        },
    ).scalar_one()
    return str(out)
