"""The stored covers of closed shifts (geo/coverage/covered.py): a period read from them agrees
with computing it afresh and with the hand-worked answer, and a stored cover stops being used
when fixes arrive for its shift or its micro-grid's boundary changes. Thinning stays within its
stated bound.

The four 200 m micro-grids of tests/test_coverage.py. 2026-11-02 00:00 UTC is 08:00 local, the
bound between shifts 1 (00-08) and 2 (08-16) of 2 November; the local day is 3 closed shifts.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text

from geo.coverage.compute import coverage_geojson
from geo.coverage.periods import Period, between, day_of
from geo.coverage.tracks import import_track_records
from geo.database import acting_as, make_engine
from geo.settings import Settings
from tests.test_coverage import DISC_TOL, X0, Y0, load_squares

BOUND = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
DAY = day_of(BOUND, Settings())


@pytest.fixture
def squares(db: Engine, db_settings: Settings) -> Engine:
    """The four micro-grids of tests/test_coverage.py in the run's empty database."""
    return load_squares(db, db_settings)


def _post(engine: Engine, settings: Settings, unit: str, kind: str, fixes: list[Any]) -> None:
    records = [
        {"unit": unit, "kind": kind, "time": t.isoformat(), "x": X0 + x, "y": Y0 + y}
        for t, x, y in fixes
    ]
    report = import_track_records(engine, settings, records, crs="EPSG:4547")
    assert report.rejected == []


def _covered(
    engine: Engine, settings: Settings, period: Period, units: list[str] | None = None
) -> dict[str, float]:
    body = coverage_geojson(engine, settings, period=period, units=units)
    return {
        f["properties"]["code"]: f["properties"]["covered_m2"] for f in json.loads(body)["features"]
    }


def _stored(engine: Engine) -> list[tuple[datetime, str, float]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT t0, area_code, covered_m2 FROM coverage_cache ORDER BY t0, area_code")
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_a_segment_across_a_shift_bound_is_covered(squares: Engine, db_settings: Settings) -> None:
    # A bicycle at (50, 100) 15 s before the bound and at (150, 100) 15 s after it: each shift
    # holds one fix (a 40 m disc), and the segment between them belongs to one track. The day
    # covers the 100 m stadium: 100 * 80 + pi 40^2, all inside M1.
    pair = [(BOUND - timedelta(seconds=15), 50, 100), (BOUND + timedelta(seconds=15), 150, 100)]
    _post(squares, db_settings, "B1", "bicycle", pair)
    stadium = 100 * 80 + math.pi * 40**2
    stored = _covered(squares, db_settings, DAY)
    assert stored["M1"] == pytest.approx(stadium, rel=DISC_TOL)
    assert stored["M2"] == stored["M3"] == stored["M4"] == 0
    # Three closed shifts stored, a row for every micro-grid; each shift alone holds one disc.
    rows = _stored(squares)
    assert len(rows) == 3 * 4
    discs = {t0: m2 for t0, code, m2 in rows if code == "M1"}
    assert discs[BOUND] == pytest.approx(math.pi * 40**2, rel=DISC_TOL)
    # The same from stored shifts again, afresh (some units only), and over a range of parts.
    assert _covered(squares, db_settings, DAY) == stored
    fresh = _covered(squares, db_settings, DAY, units=["B1"])
    assert fresh["M1"] == pytest.approx(stored["M1"], rel=1e-9)
    around = between(BOUND - timedelta(minutes=30), BOUND + timedelta(minutes=30))
    assert _covered(squares, db_settings, around)["M1"] == pytest.approx(stored["M1"], rel=1e-9)
    assert len(_stored(squares)) == 3 * 4  # parts of shifts and unit filters are never stored


def test_new_fixes_replace_the_stored_cover_of_their_shift(
    squares: Engine, db_settings: Settings
) -> None:
    _post(squares, db_settings, "B1", "bicycle", [(BOUND + timedelta(hours=1), 100, 100)])
    before = _covered(squares, db_settings, DAY)
    assert before["M4"] == 0
    # A unit on foot in M4 later in the same shift: that shift's stored covers go at import,
    # the other two shifts' stay; the day now covers its 30 m disc.
    _post(squares, db_settings, "P2", "foot", [(BOUND + timedelta(hours=2), 300, 300)])
    assert {t0 for t0, _, _ in _stored(squares)} == {DAY.start, DAY.start + timedelta(hours=16)}
    after = _covered(squares, db_settings, DAY)
    assert after["M4"] == pytest.approx(math.pi * 30**2, rel=DISC_TOL)
    assert after["M1"] == before["M1"]
    assert len(_stored(squares)) == 3 * 4


def test_a_boundary_change_replaces_the_stored_cover(
    squares: Engine, db_settings: Settings
) -> None:
    # The bicycle's stadium from x = 10 to 190 in M1; then M1 shrinks to x 0..100 (a boundary
    # written by any means): the stored cover no longer matches M1's geometry and is recomputed.
    start = BOUND + timedelta(hours=1)
    pair = [(start, 50, 100), (start + timedelta(seconds=30), 150, 100)]
    _post(squares, db_settings, "B1", "bicycle", pair)
    assert _covered(squares, db_settings, DAY)["M1"] == pytest.approx(
        100 * 80 + math.pi * 40**2, rel=DISC_TOL
    )
    with squares.begin() as conn:
        conn.execute(
            text(
                "UPDATE areas SET geom = ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4547)) "
                "WHERE code = 'M1'"
            ),
            {"x0": X0, "y0": Y0, "x1": X0 + 100, "y1": Y0 + 200},
        )
    # Left of x = 100: the half disc of the cap at x = 50 and the 50 m x 80 m band after it.
    assert _covered(squares, db_settings, DAY)["M1"] == pytest.approx(
        math.pi * 40**2 / 2 + 50 * 80, rel=DISC_TOL
    )


def test_thinning_stays_within_its_bound(squares: Engine, db_settings: Settings) -> None:
    # A walk along y = 100 with 3 m GPS noise, thinned to 1 m: its cover lies between the exact
    # covers at radius 29 m and 31 m (the Hausdorff bound of geo/coverage/covered.py), and in
    # practice far closer to the exact cover at 30 m than that bound.
    rng = np.random.default_rng(6)
    start = BOUND + timedelta(hours=1)
    walk = [
        (start + timedelta(seconds=10 * i), 20 + 13 * i + rng.normal(0, 3), 100 + rng.normal(0, 3))
        for i in range(28)
    ]
    _post(squares, db_settings, "P1", "foot", walk)

    def m1(**overrides: float) -> float:
        settings = db_settings.replace(**overrides)
        return _covered(squares, settings, DAY)["M1"] + _covered(squares, settings, DAY)["M2"]

    exact = m1()
    thinned = m1(coverage_thin_m=1.0)
    assert m1(cover_radius_m_foot=29.0) <= thinned <= m1(cover_radius_m_foot=31.0)
    assert thinned == pytest.approx(exact, rel=5e-3)
    assert thinned != exact  # thinning did drop fixes


def test_a_scoped_caller_counts_every_patrol_and_shares_the_stored_covers(
    squares: Engine, db_settings: Settings
) -> None:
    # A grid head limited to M4 (row-level security) sees only the fixes located in M4, but
    # coverage reads every unit's fixes (patrol_fixes): P3's disc, centred outside M4, still
    # covers part of it. Their covers are everyone's, so they are stored for M4 only, and the
    # whole district's computation agrees with them.
    _post(squares, db_settings, "P2", "foot", [(BOUND + timedelta(hours=2), 300, 300)])
    _post(squares, db_settings, "P3", "foot", [(BOUND + timedelta(hours=2), 190, 300)])
    with acting_as("grid head", scope="M4"):
        scoped = _covered(squares, db_settings, DAY)
    assert list(scoped) == ["M4"]
    # P2's whole disc, and the cap of P3's disc (centre 10 m west of M4) that reaches into M4.
    cap = 30**2 * math.acos(10 / 30) - 10 * math.sqrt(30**2 - 10**2)
    assert scoped["M4"] == pytest.approx(math.pi * 30**2 + cap, rel=DISC_TOL)
    stored = _stored(squares)
    assert stored
    assert {row[1] for row in stored} <= {"M4"}
    everyone = _covered(squares, db_settings, DAY)
    assert scoped["M4"] == pytest.approx(everyone["M4"], rel=1e-9)


def test_runs_on_several_connections_agree_and_a_run_without_a_connection_is_computed_anyway(
    squares: Engine, db_settings: Settings
) -> None:
    # A walk across all four micro-grids in shift 2 (a diagonal from M1 to M4) and a bicycle
    # across the shift bound. Its closed shifts' covers are computed by runs of micro-grids on
    # connections of their own (coverage_workers): one, three or four runs give the same
    # covers. With a pool of one connection, held by the request, no run gets one: the request
    # computes the day itself, to the same covers, and stores none.
    start = BOUND + timedelta(hours=1)
    walk = [(start + timedelta(seconds=10 * i), 20 + 12 * i, 20 + 12 * i) for i in range(31)]
    _post(squares, db_settings, "P1", "foot", walk)
    pair = [(BOUND - timedelta(seconds=15), 50, 100), (BOUND + timedelta(seconds=15), 150, 100)]
    _post(squares, db_settings, "B1", "bicycle", pair)

    def clear() -> None:
        with squares.begin() as conn:
            conn.execute(text("DELETE FROM coverage_cache"))

    one = _covered(squares, db_settings.replace(coverage_workers=1), DAY)
    assert all(one[code] > 0 for code in ("M1", "M2", "M3", "M4"))
    assert len(_stored(squares)) == 3 * 4
    for workers in (3, 4):
        clear()
        runs = _covered(squares, db_settings.replace(coverage_workers=workers), DAY)
        assert runs == pytest.approx(one, rel=1e-9)
        assert len(_stored(squares)) == 3 * 4
    clear()
    starved = db_settings.replace(pool_size=1, pool_max_overflow=0, pool_timeout_s=0.2)
    lone = make_engine(starved.db)
    try:
        assert _covered(lone, starved, DAY) == pytest.approx(one, rel=1e-9)
    finally:
        lone.dispose()
    assert _stored(squares) == []
