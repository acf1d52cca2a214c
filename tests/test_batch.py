"""Batch jobs per region on dask (geo/scale/batch.py): the dask path writes what the
single-process path writes, region by region, and running a batch again changes nothing.

Two regions hold the four 200 m micro-grids of tests/test_coverage.py (the same codes: a code
is unique within its region) and different patrols. The dask path runs on a LocalCluster of
two worker processes (the one ``gridsafe batch`` starts without a scheduler), each task on its
own connection.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from distributed import Client
from sqlalchemy import Engine, text

from geo.coverage.tracks import import_track_records
from geo.scale.batch import (
    BatchError,
    Job,
    dask_client,
    month_period,
    run_here,
    run_on_dask,
    task,
)
from geo.settings import BatchSettings, Settings
from tests.clients import gridsafe
from tests.districts import store_areas
from tests.test_coverage import AREAS, X0, Y0

REGIONS = ["east", "west"]
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 local, shift 2 of 2 November
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # every shift of November is closed


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """The batch's own LocalCluster (no scheduler set): two single-threaded processes."""
    with dask_client(BatchSettings(dask_workers=2)) as dask:
        yield dask


def _patrol(step: float, rows: int) -> list[dict[str, Any]]:
    """A unit walking rows ``step`` m apart across the micro-grids and back, 10 m every 20 s."""
    corners: list[tuple[float, float]] = []
    for k in range(rows):
        y = 10.0 + k * step
        corners += [(10.0, y), (390.0, y)] if k % 2 == 0 else [(390.0, y), (10.0, y)]
    points = [corners[0]]
    for (xa, ya), (xb, yb) in itertools.pairwise(corners):
        n = max(1, round(math.hypot(xb - xa, yb - ya) / 10.0))
        points += [(xa + (xb - xa) * i / n, ya + (yb - ya) * i / n) for i in range(1, n + 1)]
    return [
        {
            "unit": "P1",
            "kind": "foot",
            "time": (T0 + timedelta(seconds=20 * i)).isoformat(),
            "x": X0 + x,
            "y": Y0 + y,
        }
        for i, (x, y) in enumerate(points)
    ]


@pytest.fixture
def regions(db: Engine, db_settings: Settings) -> Engine:
    with db.begin() as conn:
        for region in REGIONS:
            store_areas(conn, region, AREAS)
    for region, (step, turns) in zip(REGIONS, [(60.0, 7), (150.0, 3)], strict=True):
        report = import_track_records(
            db, db_settings.replace(region=region), _patrol(step, turns), crs="EPSG:4547"
        )
        assert report.rejected == []
    return db


def _fixes(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT region, unit, t, area_code FROM fixes ORDER BY region, unit, t")
        )
        return [tuple(r) for r in rows]


def _covers(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT region, area_code, t0, t1, round(covered_m2::numeric, 3) "
                "FROM coverage_cache ORDER BY region, area_code, t0"
            )
        )
        return [tuple(r) for r in rows]


def _unplace(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE fixes SET area_code = NULL"))


def test_bulk_locating_on_dask_places_what_one_process_places(
    regions: Engine, db_settings: Settings, client: Client
) -> None:
    placed = _fixes(regions)
    assert {r[0] for r in placed} == set(REGIONS)
    assert all(r[3] in {"M1", "M2", "M3", "M4"} for r in placed)

    locate = task(Job.LOCATE, db_settings, period=None, when=NOW)
    _unplace(regions)
    here = run_here(locate, REGIONS)
    assert _fixes(regions) == placed
    _unplace(regions)
    there = run_on_dask(locate, REGIONS, client)
    assert _fixes(regions) == placed
    assert [(d.region, d.counts) for d in there] == [(d.region, d.counts) for d in here]
    assert [d.counts["fixes"] for d in there] == [
        sum(1 for r in placed if r[0] == region) for region in REGIONS
    ]
    # Run again, nothing is left to move.
    again = run_on_dask(locate, REGIONS, client)
    assert [d.counts["fixes"] for d in again] == [0, 0]


def test_a_month_of_coverage_on_dask_stores_what_one_process_stores(
    regions: Engine, db_settings: Settings, client: Client
) -> None:
    month = month_period(date(2026, 11, 17), db_settings)
    assert month.end - month.start == timedelta(days=30)
    coverage = task(Job.COVERAGE, db_settings, period=month, when=NOW)
    here = run_here(coverage, REGIONS)
    stored = _covers(regions)
    assert [d.counts["shifts"] for d in here] == [90, 90]
    # The regions' patrols differ, so do their covers; each region has its own rows.
    by_region = {region: sum(float(r[4]) for r in stored if r[0] == region) for region in REGIONS}
    assert by_region["east"] > by_region["west"] > 0
    with regions.begin() as conn:
        conn.execute(text("DELETE FROM coverage_cache"))
    there = run_on_dask(coverage, REGIONS, client)
    assert _covers(regions) == stored
    assert [d.counts["shifts"] for d in there] == [90, 90]
    # Run again: every shift is stored, nothing is computed or written.
    again = run_on_dask(coverage, REGIONS, client)
    assert [d.counts["shifts"] for d in again] == [0, 0]
    assert _covers(regions) == stored


def test_a_batch_without_regions_or_month_is_refused(db_settings: Settings) -> None:
    with pytest.raises(BatchError, match="no region"):
        run_here(task(Job.LOCATE, db_settings, period=None, when=NOW), [" ", ""])
    with pytest.raises(BatchError, match="month"):
        task(Job.COVERAGE, db_settings, period=None, when=NOW)


def test_the_command_runs_a_batch_and_refuses_no_region(
    regions: Engine, db_settings: Settings
) -> None:
    # In this process (--here): a cluster of its own would take minutes to start on a loaded
    # machine; the dask path is the one the tests above drive.
    _unplace(regions)
    done = gridsafe(db_settings, "batch", "locate", "--regions", "east,west", "--here")
    assert done.returncode == 0, done.stderr
    assert "batch locate: 2 region(s)" in done.stdout
    lines = {ln.split("│")[1].strip(): ln for ln in done.stdout.splitlines() if "│" in ln}
    assert {"east", "west"} <= set(lines)
    assert all(r[3] is not None for r in _fixes(regions))

    refused = gridsafe(db_settings, "batch", "coverage", "--regions", ",", "--month", "2026-11")
    assert refused.returncode == 1
    assert "no region given" in refused.stderr
    assert "Traceback" not in refused.stderr
