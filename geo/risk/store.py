"""Keeping computations (risk_runs, risk_scores) and reading them back for the API and maps.

Which computation answers "as of D": the latest one whose ``as_of`` is at or before D (ties: the
latest computed). When there is none and D is not in the past (or none is given),
:func:`risk_geojson` and :func:`risk_detail` compute the map as of now on demand and keep it, so
the first look at today's map is never empty. A read never keeps a run for a past date: that run
would answer for every later date until the next one (any reader could make the map stale for
everyone); a past map is computed by ``gridsafe risk compute --as-of``. "Previous colour" is
the colour in the computation before the one shown
(by ``as_of``, then by id).
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Any, cast

import orjson
import psycopg
from sqlalchemy import Connection, Engine, Row, text

from geo import clock
from geo.database import advisory_lock, sql, unscoped
from geo.errors import NotFoundError
from geo.levels import LEVEL_ORDER, Level
from geo.risk.compute import RiskResult, as_of_instant, compute_risk
from geo.settings import Settings


def store_run(engine: Engine, result: RiskResult) -> int:
    """Keep one computation and all its areas' scores in one transaction; return the run id.

    Then ``ANALYZE risk_scores``, after the commit (ANALYZE's lock inside the transaction would
    hold back a concurrent store until this one commits): the maps and tiles join each area to
    its score in the run shown, and with no statistics for the new run's rows PostgreSQL
    scanned every score of the region per area (25 ms for one zoom-15 tile instead of 3.7 ms).
    """
    with engine.begin() as conn:
        run_id = int(
            conn.execute(
                sql("risk_run_insert", "geo.risk"),
                {
                    "region": result.region,
                    "as_of": result.as_of,
                    "params": json.dumps(result.params, ensure_ascii=False),
                    "summary": json.dumps(result.summary, ensure_ascii=False),
                },
            ).scalar_one()
        )
        _insert_scores(conn, run_id, result)
    with engine.begin() as conn:
        conn.execute(text("SELECT analyze_table('risk_scores')"))
    return run_id


_SCORE_COLUMNS = (
    "run_id, region, area_code, level, colour, score, hazard_colour, incident_colour, "
    "intensity_km2, smoothed_km2, per_1000, gi_z, gi_p, significant, reasons"
)


def _insert_scores(conn: Connection, run_id: int, result: RiskResult) -> None:
    """Write every area's score of run ``run_id`` with one COPY and one INSERT ... SELECT.

    Row by row (an executemany of 65,000 rows) the store of a province took longer than its
    computation. The rows are COPY'd (psycopg formats each in C) into a temporary table, then
    moved into ``risk_scores`` in one statement: PostgreSQL refuses COPY into a table with
    row-level security, which ``risk_scores`` has. The reasons are written by orjson: a
    province's 50 MB of them took json 5 s (orjson 0.6 s), as much as the rest of the store.
    """
    raw = cast(psycopg.Connection, conn.connection.driver_connection)
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE staged_scores (LIKE risk_scores INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cur.copy(f"COPY staged_scores ({_SCORE_COLUMNS}) FROM STDIN") as copy:
            for a in result.areas:
                copy.write_row(
                    (
                        run_id,
                        result.region,
                        a.code,
                        a.level.value,
                        a.colour.value,
                        a.score,
                        a.hazard_colour.value,
                        a.incident_colour.value,
                        a.intensity_km2,
                        a.smoothed_km2,
                        a.per_1000,
                        a.gi_z,
                        a.gi_p,
                        a.significant,
                        orjson.dumps(a.reasons).decode(),
                    )
                )
    conn.execute(sql("risk_score_insert", "geo.risk"))


def run_risk(engine: Engine, settings: Settings, *, as_of: datetime) -> tuple[int, RiskResult]:
    """Compute the map as of ``as_of`` and keep it; return the run id and the result."""
    result = compute_risk(engine, settings, as_of=as_of)
    return store_run(engine, result), result


def _run_at(conn: Connection, region: str, as_of: datetime | None) -> Row[Any] | None:
    return conn.execute(sql("risk_run_at", "geo.risk"), {"region": region, "as_of": as_of}).first()


_ON_DEMAND: dict[str, threading.Lock] = {}
"""One on-demand computation per region at a time in this process (its other requests wait for
it without holding a database connection)."""


def _compute_once(
    engine: Engine, settings: Settings, region: str, instant: datetime | None, now: datetime
) -> None:
    """Compute and keep the map as of ``now`` unless a run answering ``instant`` is kept by
    the time this caller's turn comes: single-flight across threads (a lock per region) and
    across processes (a PostgreSQL advisory lock held while computing), so requests arriving
    together store one run, not one each."""
    with _ON_DEMAND.setdefault(region, threading.Lock()), unscoped(), engine.begin() as conn:
        advisory_lock(conn, f"gridsafe.risk.on_demand:{region}")
        if _run_at(conn, region, instant) is None:
            run_risk(engine, settings, as_of=now)


def resolve_run(
    engine: Engine, settings: Settings, region: str, as_of: date | datetime | None
) -> Row[Any]:
    """The computation answering ``as_of``; today's is computed and kept on demand.

    Raises
    ------
    NotFoundError
        No computation answers a past ``as_of``.
    """
    instant = None if as_of is None else as_of_instant(as_of, settings.timezone)
    now = clock.now(settings.timezone)
    with engine.connect() as conn:
        run = _run_at(conn, region, instant)
    if run is None:
        if region != settings.region:
            msg = f"no risk computation for region {region!r}"
            raise NotFoundError(msg)
        if instant is not None and instant < now:
            msg = (
                f"no risk computation as of {as_of} or earlier; a past map is computed with "
                f"`gridsafe risk compute --as-of {instant.astimezone(now.tzinfo).date()}`"
            )
            raise NotFoundError(msg)
        # The map is one computation over the whole region (hot spots look across area
        # borders), kept for everyone: whoever asks first, a grid head included, has it
        # computed in full and stored, then reads only what their scope shows of it.
        _compute_once(engine, settings, region, instant, now)
        with engine.connect() as conn:
            run = _run_at(conn, region, instant)
    if run is None:  # only if the run just kept was deleted at once by someone else
        msg = f"no risk computation for region {region!r} as of {as_of}"
        raise NotFoundError(msg)
    return run


def risk_geojson(
    engine: Engine,
    *,
    region: str,
    level: Level | None = None,
    as_of: date | datetime | None = None,
    settings: Settings,
) -> str:
    """The four-colour map as a GeoJSON FeatureCollection text (EPSG:4326, built in SQL).

    Parameters
    ----------
    region
        The tenant.
    level
        Only areas of this level (all levels when None).
    as_of
        The latest computation at or before this instant (a date: its end, in
        ``settings.timezone``) answers; None: the newest. Computed on demand when there is none.
    settings
        For the time zone and an on-demand computation.

    Returns
    -------
    str
        Features with ``code``, ``name``, ``level``, ``parent_code``, ``colour``, ``score``,
        ``hazard_colour``, ``incident_colour``, ``previous_colour`` and ``reasons``; the
        collection's ``run`` says which computation answered.
    """
    run = resolve_run(engine, settings, region, as_of)
    with engine.connect() as conn:
        out = conn.execute(
            sql("risk_geojson", "geo.risk"),
            {
                "run_id": run.id,
                "previous_id": run.previous_id,
                "level": level.value if level else None,
                "levels": LEVEL_ORDER,
            },
        ).scalar_one()
    return str(out)


def risk_detail(
    engine: Engine,
    *,
    region: str,
    code: str,
    as_of: date | datetime | None = None,
    settings: Settings,
) -> dict[str, Any]:
    """Why an area has its colour: hazards, incidents by type, Gi*, thresholds, history, and
    every direct child with its colour (worst first).

    Raises
    ------
    NotFoundError
        The computation has no area with that code.
    """
    run = resolve_run(engine, settings, region, as_of)
    with engine.connect() as conn:
        row = conn.execute(
            sql("risk_area", "geo.risk"),
            {"run_id": run.id, "previous_id": run.previous_id, "code": code},
        ).first()
        if row is None:
            msg = f"no area with code {code!r} in the risk computation of {run.as_of.isoformat()}"
            raise NotFoundError(msg)
        history = conn.execute(
            sql("risk_history", "geo.risk"), {"region": region, "code": code}
        ).all()
        children = conn.execute(
            sql("risk_children", "geo.risk"), {"run_id": run.id, "region": region, "code": code}
        ).all()
    params = dict(run.params)
    tz = clock.zone(settings.timezone)

    def local(instant: datetime) -> str:
        return instant.astimezone(tz).isoformat()

    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "parent_code": row.parent_code,
        "area_m2": row.area_m2,
        "population": row.population,
        "colour": row.colour,
        "previous_colour": row.previous_colour,
        "score": row.score,
        "hazard_colour": row.hazard_colour,
        "incident_colour": row.incident_colour,
        "intensity_km2": row.intensity_km2,
        "smoothed_km2": row.smoothed_km2,
        "per_1000": row.per_1000,
        "hotspot": (
            None
            if row.gi_z is None
            else {
                "z": row.gi_z,
                "p": row.gi_p,
                "fdr_p": params.get("fdr_p"),
                "significant": row.significant,
            }
        ),
        "reasons": row.reasons,
        "children": [
            {"code": k.code, "name": k.name, "colour": k.colour, "score": k.score} for k in children
        ],
        "thresholds": {
            "lec_bands": params.get("lec_bands"),
            "ls_bands": params.get("ls_bands"),
            "incident_bounds_km2": params.get("incident_bounds_km2"),
            "incident_quantiles": params.get("incident_quantiles"),
            "incident_thresholds": params.get("incident_thresholds"),
            "fdr_alpha": params.get("fdr_alpha"),
            "fdr_p": params.get("fdr_p"),
            "half_life_days": params.get("half_life_days"),
            "window_days": params.get("window_days"),
            "type_weights": params.get("type_weights"),
        },
        "run": {
            "id": run.id,
            "as_of": local(run.as_of),
            "computed_at": local(run.computed_at),
            "previous_id": run.previous_id,
        },
        "history": [
            {
                "run_id": h.run_id,
                "as_of": local(h.as_of),
                "computed_at": local(h.computed_at),
                "colour": h.colour,
                "score": h.score,
            }
            for h in history
        ],
    }
