"""Patrol coverage per micro-grid and period, rolled up to every level; all in PostGIS.

Per micro-grid (geo/coverage/sql/coverage_micro.sql states every rule where it is applied):

- **covered share**: the tracks of the period drawn as lines through their fixes, buffered by the
  unit kind's radius (settings: 30 m on foot, 40 m by bicycle and 50 m in a vehicle by
  default), unioned and intersected with the micro-grid, over its area (computed shift by shift,
  closed shifts stored: :mod:`geo.coverage.covered`);
- **visits**: maximal runs of consecutive fixes of one track inside the micro-grid (re-entries
  count again), with **dwell** (time inside) and **deterrent visits**, those of at least
  ``settings.coverage.koper_dwell_s`` (Koper 1995, Justice Quarterly 12(4): a 10-15 minute
  stop deters longest);
- **check-ins** of grid heads in the period, and the **last patrol fix** and **last check-in**
  before the period's end (looking back beyond its start: "time since the last visit").

Every level above sums the micro-grids' counts and takes the area-weighted mean of their covered
shares. The micro-grid results live in a temporary table ``cov_micro`` for the transaction, and
the roll-up to a level in ``cov_areas`` (:func:`rollup`), so coverage and the gap list read the
same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo import clock
from geo.areas import require_area
from geo.coverage.covered import covered_into, micro_codes, slices
from geo.coverage.periods import Period, shift_number, shift_of
from geo.database import sql
from geo.levels import Level
from geo.settings import Settings

_COV_MICRO = """
CREATE TEMP TABLE cov_micro (
    code text PRIMARY KEY,
    ancestors text[] NOT NULL,
    area_m2 float8 NOT NULL,
    covered_m2 float8 NOT NULL,
    visits bigint NOT NULL,
    deterrent_visits bigint NOT NULL,
    dwell_s float8 NOT NULL,
    checkins bigint NOT NULL,
    last_patrol_at timestamptz,
    last_checkin_at timestamptz
) ON COMMIT DROP
"""

_COV_AREAS = """
CREATE TEMP TABLE IF NOT EXISTS cov_areas (
    code text PRIMARY KEY,
    level text NOT NULL,
    area_m2 float8 NOT NULL,
    covered_m2 float8 NOT NULL,
    visits bigint NOT NULL,
    deterrent_visits bigint NOT NULL,
    dwell_s float8 NOT NULL,
    checkins bigint NOT NULL,
    micro_grids bigint NOT NULL,
    micro_grids_unvisited bigint NOT NULL,
    last_patrol_at timestamptz,
    last_checkin_at timestamptz
) ON COMMIT DROP
"""


def compute_micro(
    conn: Connection,
    settings: Settings,
    *,
    period: Period,
    area: str | None = None,
    units: Sequence[str] | None = None,
) -> None:
    """Fill the transaction's ``cov_micro`` table for the micro-grids of ``area`` (all: None)."""
    require_area(conn, settings.region, area)
    covered_into(
        conn, settings, period=period, codes=micro_codes(conn, settings, area), units=units
    )
    conn.execute(text(_COV_MICRO))
    conn.execute(
        sql("coverage_micro", "geo.coverage"),
        {
            "region": settings.region,
            "t0": period.start,
            "t1": period.end,
            "area": area,
            "units": list(units) if units else None,
            "gap_s": settings.coverage.track_gap_s,
            "koper_s": settings.coverage.koper_dwell_s,
        },
    )


def rollup(conn: Connection, settings: Settings, *, level: Level, area: str | None) -> None:
    """Fill the transaction's ``cov_areas`` with the areas of ``level`` within ``area`` (all:
    None), rolled up from ``cov_micro`` (:func:`compute_micro` first)."""
    conn.execute(text(_COV_AREAS))
    conn.execute(text("TRUNCATE cov_areas"))
    conn.execute(
        sql("coverage_rollup", "geo.coverage"),
        {"region": settings.region, "level": level.value, "area": area},
    )


def coverage_geojson(
    engine: Engine,
    settings: Settings,
    *,
    period: Period,
    level: Level = Level.MICRO,
    area: str | None = None,
    units: Sequence[str] | None = None,
) -> str:
    """Coverage of the areas of ``level`` within ``area`` over ``period``, as GeoJSON text.

    Parameters
    ----------
    area
        Code of the area whose subtree is reported (all areas of the region: None).
    units
        Only these patrol units' fixes count (all: None).

    Returns
    -------
    str
        A FeatureCollection (EPSG:4326) with the period and, per area, ``covered_share``,
        ``visits``, ``deterrent_visits``, ``dwell_s``, ``checkins``, ``last_visit_at``,
        ``hours_since_last_visit`` and the micro-grid counts.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    """
    with engine.begin() as conn:
        compute_micro(conn, settings, period=period, area=area, units=units)
        return _rolled_up(conn, settings, period=period, level=level, area=area)


def _rolled_up(
    conn: Connection, settings: Settings, *, period: Period, level: Level, area: str | None
) -> str:
    rollup(conn, settings, level=level, area=area)
    out = conn.execute(
        sql("coverage_geojson", "geo.coverage"),
        {
            "region": settings.region,
            "level": level.value,
            "t0": period.start,
            "t1": period.end,
            "label": period.label,
            "now": clock.utcnow(),
        },
    ).scalar_one()
    return str(out)


def coverage_and_cover(
    engine: Engine,
    settings: Settings,
    *,
    period: Period,
    area: str | None = None,
    units: Sequence[str] | None = None,
    simplify_m: float = 0.5,
) -> tuple[str, str]:
    """The micro-grids' coverage (as :func:`coverage_geojson`) and the covered area itself, both
    as GeoJSON text from one computation.

    Parameters
    ----------
    simplify_m
        Tolerance for drawing the covered area, in metres (topology-preserving Douglas-Peucker:
        the buffers' arcs carry far more vertices than a page can show; at 0.5 m a 30 m disc
        keeps 17 sides and 98 % of its area, below a pixel at the district's zoom).

    Returns
    -------
    tuple of str
        The coverage FeatureCollection, and a FeatureCollection (EPSG:4326) of the covered part
        of each micro-grid with some cover (the union of the period's buffered tracks), each
        with its ``code`` and ``covered_m2``.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    """
    with engine.begin() as conn:
        compute_micro(conn, settings, period=period, area=area, units=units)
        coverage = _rolled_up(conn, settings, period=period, level=Level.MICRO, area=area)
        cover = conn.execute(
            sql("coverage_covered_geojson", "geo.coverage"), {"simplify_m": simplify_m}
        ).scalar_one()
    return coverage, str(cover)


def tracks_geojson(
    engine: Engine,
    settings: Settings,
    *,
    period: Period,
    area: str | None = None,
    units: Sequence[str] | None = None,
    simplify_m: float = 2.0,
) -> str:
    """The patrol tracks of ``period`` as GeoJSON (EPSG:4326), split as coverage splits them
    and at shift changes: a line per track and shift (a point for a track of one fix), each with
    its ``unit``, ``unit_kind``, ``shift`` (label), ``shift_no`` (1 for the day's first),
    ``fixes``, ``started`` and ``ended``.

    Parameters
    ----------
    area
        Only the parts of tracks inside this area (all: None); a caller with an area scope
        always gets them clipped to their area (coverage_tracks.sql).
    simplify_m
        Douglas-Peucker tolerance for drawing, in metres.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    """
    shifts = slices(period, settings)
    with engine.connect() as conn:
        require_area(conn, settings.region, area)
        out = conn.execute(
            sql("coverage_tracks", "geo.coverage"),
            {
                "s0s": [s.start for s in shifts],
                "s1s": [s.end for s in shifts],
                "labels": [shift_of(s.start, settings).label for s in shifts],
                "numbers": [shift_number(s.start, settings) for s in shifts],
                "region": settings.region,
                "t0": period.start,
                "t1": period.end,
                "units": list(units) if units else None,
                "area": area,
                "gap_s": settings.coverage.track_gap_s,
                "simplify_m": simplify_m,
            },
        ).scalar_one()
    return str(out)
