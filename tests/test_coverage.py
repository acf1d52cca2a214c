"""Patrol coverage on hand-made micro-grids, with every answer worked out by hand.

Four 200 m x 200 m micro-grids in EPSG:4547 (the default SRID), in one level-3 grid:

    M3 | M4        y 200..400
    ---+---
    M1 | M2        y   0..200
    x 0..200 | 200..400      (offsets from X0, Y0)

A buffered segment of length L with radius r covers L * 2r + pi r^2 (a stadium); PostGIS draws
discs with 64 segments (quad_segs=16), 0.16 % short of pi r^2, hence the relative tolerances.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer
from sqlalchemy import Engine, text

from geo import clock
from geo.coverage.checkins import import_checkins
from geo.coverage.compute import coverage_and_cover, coverage_geojson, tracks_geojson
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import PeriodKind, between, shift_of
from geo.coverage.tracks import import_track_records, import_tracks
from geo.crs import gcj02_from_wgs84
from geo.errors import NotFoundError
from geo.levels import Level
from geo.settings import Settings
from maps.coverage import period_text
from maps.i18n import translator
from tests.clients import api_client
from tests.districts import store_areas
from tests.frozen import Instant

X0, Y0 = 470000.0, 3846000.0
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai, shift 2 (08-16)
DISC_TOL = 2e-3
TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)


def _square(x: float, y: float, w: float, h: float) -> str:
    ring = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
    return "MULTIPOLYGON(((" + ",".join(f"{X0 + a} {Y0 + b}" for a, b in ring) + ")))"


AREAS = [
    ("S", "subdistrict", None, [], _square(0, 0, 400, 400)),
    ("G2", "grid2", "S", ["S"], _square(0, 0, 400, 400)),
    ("G3", "grid3", "G2", ["S", "G2"], _square(0, 0, 400, 400)),
    ("M1", "micro", "G3", ["S", "G2", "G3"], _square(0, 0, 200, 200)),
    ("M2", "micro", "G3", ["S", "G2", "G3"], _square(200, 0, 200, 200)),
    ("M3", "micro", "G3", ["S", "G2", "G3"], _square(0, 200, 200, 200)),
    ("M4", "micro", "G3", ["S", "G2", "G3"], _square(200, 200, 200, 200)),
]


def load_squares(engine: Engine, settings: Settings) -> Engine:
    """Store the four micro-grids above (with their parents) in an empty database."""
    with engine.begin() as conn:
        store_areas(conn, settings.region, AREAS)
    return engine


@pytest.fixture
def grid(db: Engine, db_settings: Settings) -> Engine:
    """The four micro-grids above in the run's empty database."""
    return load_squares(db, db_settings)


def _fixes(
    unit: str,
    kind: str,
    points: Sequence[tuple[float, float]],
    *,
    start: datetime = T0,
    step_s: float = 10.0,
) -> list[dict[str, object]]:
    return [
        {
            "unit": unit,
            "kind": kind,
            "time": (start + timedelta(seconds=i * step_s)).isoformat(),
            "x": X0 + x,
            "y": Y0 + y,
        }
        for i, (x, y) in enumerate(points)
    ]


def _post(engine: Engine, settings: Settings, fixes: list[dict[str, object]]) -> None:
    report = import_track_records(engine, settings, fixes, crs="EPSG:4547")
    assert report.rejected == []


def _coverage(
    engine: Engine,
    settings: Settings,
    *,
    hours: float = 1.0,
    start: datetime = T0,
    level: Level = Level.MICRO,
    area: str | None = None,
    units: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    body = coverage_geojson(
        engine,
        settings,
        period=between(start, start + timedelta(hours=hours)),
        level=level,
        area=area,
        units=units,
    )
    return {f["properties"]["code"]: f["properties"] for f in json.loads(body)["features"]}


def test_track_along_a_border(grid: Engine, db_settings: Settings) -> None:
    # On foot along x = 200 from y = 50 to y = 150: a 100 m x 60 m rectangle plus a 30 m disc,
    # half on each side. Every fix lies on the M1/M2 border, so the border rule puts them all in
    # M1 (smallest code): one visit of 100 s there, none in M2 though half its cover is there.
    _post(grid, db_settings, _fixes("P1", "foot", [(200, 50 + 10 * i) for i in range(11)]))
    cov = _coverage(grid, db_settings)
    half = (100 * 60 + math.pi * 30**2) / 2
    for code in ("M1", "M2"):
        assert cov[code]["covered_m2"] == pytest.approx(half, rel=DISC_TOL)
        assert cov[code]["covered_share"] == pytest.approx(half / 40000, rel=DISC_TOL)
    assert (cov["M1"]["visits"], cov["M1"]["dwell_s"]) == (1, 100.0)
    assert (cov["M2"]["visits"], cov["M2"]["dwell_s"]) == (0, 0.0)
    assert cov["M3"]["covered_m2"] == cov["M4"]["covered_m2"] == 0.0


def test_track_entering_and_leaving_twice(grid: Engine, db_settings: Settings) -> None:
    # Along y = 100, 10 m per 10 s: x 150 -> 250 -> 150 -> 250 -> 150 (41 fixes, 400 s). The fix
    # at x = 200 is on the border and goes to M1. Runs: M1, M2, M1, M2, M1, so 2 visits to M2
    # and 3 to M1. Each M2 run holds x = 210..250..210 (t = 60..140 s after its leg began); with
    # the midpoint rule it dwells (150 + 140)/2 - (60 + 50)/2 = 90 s; M1 has the rest of 400 s.
    xs = [*range(150, 251, 10), *range(240, 149, -10), *range(160, 251, 10), *range(240, 149, -10)]
    _post(grid, db_settings, _fixes("P1", "foot", [(x, 100) for x in xs]))
    cov = _coverage(grid, db_settings)
    assert (cov["M2"]["visits"], cov["M2"]["dwell_s"]) == (2, 180.0)
    assert (cov["M1"]["visits"], cov["M1"]["dwell_s"]) == (3, 220.0)
    half = 50 * 60 + math.pi * 30**2 / 2  # the stadium over x 150..250 cut at x = 200
    assert cov["M1"]["covered_m2"] == pytest.approx(half, rel=DISC_TOL)
    assert cov["M2"]["covered_m2"] == pytest.approx(half, rel=DISC_TOL)
    g3 = _coverage(grid, db_settings, level=Level.GRID3)["G3"]
    assert (g3["visits"], g3["dwell_s"], g3["micro_grids_unvisited"]) == (5, 400.0, 2)
    assert g3["covered_share"] == pytest.approx(2 * half / 160000, rel=DISC_TOL)


def test_single_fix_exactly_on_a_vertex(grid: Engine, db_settings: Settings) -> None:
    # One vehicle fix at the corner all four micro-grids share: a quarter of the 50 m disc in
    # each; the point belongs to M1 (smallest code); a single fix dwells 0 s.
    _post(grid, db_settings, _fixes("V1", "vehicle", [(200, 200)]))
    cov = _coverage(grid, db_settings)
    quarter = math.pi * 50**2 / 4
    for code in ("M1", "M2", "M3", "M4"):
        assert cov[code]["covered_m2"] == pytest.approx(quarter, rel=DISC_TOL)
    assert [cov[c]["visits"] for c in ("M1", "M2", "M3", "M4")] == [1, 0, 0, 0]
    assert cov["M1"]["dwell_s"] == 0.0
    sub = _coverage(grid, db_settings, level=Level.SUBDISTRICT)["S"]
    assert sub["covered_share"] == pytest.approx(math.pi * 50**2 / 160000, rel=DISC_TOL)


def test_gap_splits_tracks_and_empty_period(grid: Engine, db_settings: Settings) -> None:
    # A bicycle at (50, 100), then 11 min later at (350, 100): the gap (> 10 min) splits the
    # track, so only two 40 m discs are covered, not the 300 m between them.
    fixes = _fixes("B1", "bicycle", [(50, 100), (350, 100)], step_s=660)
    report = import_track_records(grid, db_settings, fixes, crs="EPSG:4547")
    assert (report.tracks, report.inserted) == (2, 2)
    cov = _coverage(grid, db_settings)
    disc = math.pi * 40**2
    assert cov["M1"]["covered_m2"] == pytest.approx(disc, rel=DISC_TOL)
    assert cov["M2"]["covered_m2"] == pytest.approx(disc, rel=DISC_TOL)
    assert (cov["M1"]["visits"], cov["M2"]["visits"]) == (1, 1)
    # The next hour holds no fix: nothing covered or visited, but the last visit is remembered.
    later = _coverage(grid, db_settings, start=T0 + timedelta(hours=1))
    assert all(p["covered_m2"] == 0 and p["visits"] == 0 for p in later.values())
    assert later["M2"]["last_visit_at"] == (T0 + timedelta(seconds=660)).isoformat()
    assert later["M2"]["hours_since_last_visit"] == pytest.approx(2 - 660 / 3600, abs=0.01)
    assert later["M3"]["last_visit_at"] is None


def test_koper_deterrent_visit_and_unit_filter(grid: Engine, db_settings: Settings) -> None:
    # A foot unit standing in M4 for 12 min (fixes every 60 s): one visit of 720 s >= 10 min,
    # a deterrent one after Koper (1995); a passing vehicle is filtered out by unit.
    _post(grid, db_settings, _fixes("P2", "foot", [(300, 300)] * 13, step_s=60))
    _post(grid, db_settings, _fixes("V2", "vehicle", [(300, 250), (300, 350)], step_s=10))
    cov = _coverage(grid, db_settings, units=["P2"])
    assert (cov["M4"]["visits"], cov["M4"]["dwell_s"], cov["M4"]["deterrent_visits"]) == (
        1,
        720.0,
        1,
    )
    assert cov["M4"]["covered_m2"] == pytest.approx(math.pi * 30**2, rel=DISC_TOL)
    both = _coverage(grid, db_settings)
    assert both["M4"]["visits"] == 2
    scoped = _coverage(grid, db_settings, area="M4")
    assert list(scoped) == ["M4"]
    with pytest.raises(NotFoundError):
        _coverage(grid, db_settings, area="nowhere")


def test_cleaning_counts_and_reimport(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    # CSV with Chinese headers and kind: 12 fixes on foot, one duplicate row, one jump of 800 m
    # in 10 s (288 km/h), one row without a time; a second batch continues from the stored fixes.
    lines = ["单元,方式,时间,x,y"]
    beijing = T0.replace(tzinfo=None) + timedelta(hours=8)  # naive local times (UTC+8)
    for i in range(12):
        when = beijing + timedelta(seconds=10 * i)
        lines.append(f"P9,步巡,{when:%Y/%m/%d %H:%M:%S},{X0 + 20 + 10 * i},{Y0 + 20}")
    lines.insert(4, lines[3])  # row 4 repeats row 3
    lines.append(f"P9,步巡,{beijing + timedelta(seconds=120)},{X0 + 900},{Y0 + 20}")
    lines.append(f"P9,步巡,,{X0},{Y0}")
    path = tmp_path / "tracks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = import_tracks(grid, db_settings, path, crs="EPSG:4547")
    assert (first.inserted, first.duplicates, first.too_fast, first.tracks) == (12, 1, 1, 1)
    assert sorted(p.row or 0 for p in first.rejected) == [4, 14, 15]
    again = import_tracks(grid, db_settings, path, crs="EPSG:4547")
    assert (again.inserted, again.unchanged, again.duplicates, again.too_fast) == (0, 12, 1, 1)
    with grid.connect() as conn:
        stored = conn.execute(text("SELECT count(*), min(t) FROM fixes")).one()
        parts = conn.execute(
            text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'fixes'::regclass")
        ).scalar_one()
    assert stored[0] == 12
    assert stored[1] == T0  # 2026/11/02 09:00:00 local time is 01:00 UTC
    assert parts >= 1
    # A live batch 10 s after the last stored fix, 500 m away: too fast given the stored fix.
    live = _fixes("P9", "foot", [(500, 20)], start=T0 + timedelta(seconds=120))
    report = import_track_records(grid, db_settings, live, crs="EPSG:4547")
    assert (report.inserted, report.too_fast) == (0, 1)


# Rows (1-based) of a 31-fix walk displaced 480 m north, out of every micro-grid.
JUMPS = {
    "first": (1,),
    "second": (2,),
    "middle": (16,),
    "two in a row": (16, 17),
    "first two": (1, 2),
    "last": (31,),
}


@pytest.mark.parametrize("jumped", JUMPS.values(), ids=JUMPS.keys())
def test_a_jump_is_dropped_wherever_it_falls(
    grid: Engine, db_settings: Settings, jumped: tuple[int, ...]
) -> None:
    # On foot along y = 100, 10 m per 10 s, from x = 40 (row 1) to x = 340 (row 31). The rows
    # in ``jumped`` lie 480 m north instead (173 km/h from their neighbours: over 20 km/h). Only
    # they are dropped, whether first, second, in the middle, two in a row or last: the rest
    # can all be walked. The walk then runs from the first good row's x to the last's (a gap in
    # the middle is bridged on the same line), and covers a 60 m wide stadium cut at x = 200,
    # its ends 30 m or more inside the squares: M1 (200 - x_first) * 60 + half a 30 m disc, M2
    # (x_last - 200) * 60 + the other half; nothing of M3 and M4, which a kept jump would have
    # crossed. E.g. "first": rows 2-31 kept, x 50..340, M1 150 * 60 + 450 pi, M2 140 * 60 +
    # 450 pi; "last": rows 1-30, x 40..330, M1 160 * 60 + 450 pi, M2 130 * 60 + 450 pi.
    points = [(40 + 10 * i, 580 if i + 1 in jumped else 100) for i in range(31)]
    report = import_track_records(grid, db_settings, _fixes("P5", "foot", points), crs="EPSG:4547")
    assert [p.row for p in report.rejected] == list(jumped)
    assert all(p.reason.startswith("impossible speed for foot: ") for p in report.rejected)
    assert (report.inserted, report.too_fast, report.tracks) == (31 - len(jumped), len(jumped), 1)
    good = [x for i, (x, _) in enumerate(points) if i + 1 not in jumped]
    m1 = (200 - good[0]) * 60 + math.pi * 30**2 / 2
    m2 = (good[-1] - 200) * 60 + math.pi * 30**2 / 2
    cov = _coverage(grid, db_settings)
    assert cov["M1"]["covered_share"] == pytest.approx(m1 / 40000, rel=DISC_TOL)
    assert cov["M2"]["covered_share"] == pytest.approx(m2 / 40000, rel=DISC_TOL)
    assert cov["M3"]["covered_m2"] == cov["M4"]["covered_m2"] == 0.0
    assert [cov[c]["visits"] for c in ("M1", "M2", "M3", "M4")] == [1, 1, 0, 0]


def test_jump_reasons_name_the_neighbours(grid: Engine, db_settings: Settings) -> None:
    # The reviewer's file: a first fix 480 m north of the walk, then 30 good fixes. Row 1 is
    # hypot(10, 480) / 10 s = 48.0 m/s = 173 km/h from row 2; a middle jump is that far from
    # both its neighbours.
    points = [(20, 580), *[(30 + 10 * i, 100) for i in range(30)]]
    first = import_track_records(grid, db_settings, _fixes("P6", "foot", points), crs="EPSG:4547")
    assert (first.inserted, first.too_fast) == (30, 1)
    assert first.rejected[0].reason == "impossible speed for foot: 173 km/h to row 2 (over 20 km/h)"
    points = [(20 + 10 * i, 580 if i == 5 else 100) for i in range(11)]
    later = _fixes("P7", "foot", points, start=T0 + timedelta(hours=1))
    middle = import_track_records(grid, db_settings, later, crs="EPSG:4547")
    assert [(p.row, p.reason) for p in middle.rejected] == [
        (6, "impossible speed for foot: 173 km/h from row 5 and 173 km/h to row 7 (over 20 km/h)")
    ]


def test_a_fast_start_is_kept(grid: Engine, db_settings: Settings) -> None:
    # A car that leaves at 144 km/h (400 m per 10 s, under the 150 km/h limit) and slows to
    # 36 km/h: fast is not wrong, every fix is kept.
    xs = [0, 400, 800, 1000, 1100, 1200]
    fixes = _fixes("V5", "vehicle", [(x - 900, 100) for x in xs])
    report = import_track_records(grid, db_settings, fixes, crs="EPSG:4547")
    assert (report.inserted, report.too_fast, report.tracks) == (6, 0, 1)


def test_a_live_stream_recovers_from_a_bad_first_fix(grid: Engine, db_settings: Settings) -> None:
    # A device posts one fix, 480 m off, then five good ones 10 s apart. The stored fix and the
    # first new one contradict each other; the five agree, so they are kept (the old rule kept
    # the first fix as the anchor and dropped all five). The bad fix stays stored: an import
    # never deletes. A later lone jump is dropped against the five.
    assert (
        import_track_records(
            grid, db_settings, _fixes("P8", "foot", [(100, 580)]), crs="EPSG:4547"
        ).inserted
        == 1
    )
    walk = _fixes(
        "P8", "foot", [(100 + 10 * i, 100) for i in range(5)], start=T0 + timedelta(seconds=10)
    )
    good = import_track_records(grid, db_settings, walk, crs="EPSG:4547")
    assert (good.inserted, good.too_fast, good.tracks) == (5, 0, 0)
    jump = _fixes("P8", "foot", [(140, 580)], start=T0 + timedelta(seconds=60))
    bad = import_track_records(grid, db_settings, jump, crs="EPSG:4547")
    assert (bad.inserted, bad.too_fast) == (0, 1)
    assert bad.rejected[0].reason.startswith(
        "impossible speed for foot: 173 km/h from the stored fix at"
    )
    with grid.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fixes")).scalar_one() == 6


def test_gpx_tracks(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    # A GPX track named by its unit, of type 车巡 (vehicle), in WGS84.
    positions = [TO_WGS84.transform(X0 + 100 + 5 * i, Y0 + 100) for i in range(5)]
    pts = "".join(
        f'<trkpt lat="{lat:.9f}" lon="{lon:.9f}">'
        f"<time>{(T0 + timedelta(seconds=10 * i)).isoformat()}</time></trkpt>"
        for i, (lon, lat) in enumerate(positions)
    )
    gpx = (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>警车01</name><type>车巡</type><trkseg>{pts}</trkseg></trk></gpx>"
    )
    path = tmp_path / "patrol.gpx"
    path.write_text(gpx, encoding="utf-8")
    report = import_tracks(grid, db_settings, path)
    assert (report.inserted, report.units, report.crs) == (5, 1, "EPSG:4326")
    with grid.connect() as conn:
        row = conn.execute(text("SELECT DISTINCT unit, unit_kind, area_code FROM fixes")).one()
    assert tuple(row) == ("警车01", "vehicle", "M1")


def _wgs84(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS84.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def _point_features(rows: Sequence[tuple[dict[str, object], tuple[float, float]]]) -> str:
    """A GeoJSON FeatureCollection (WGS84) of points at grid offsets, with properties."""
    features = [
        {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": list(_wgs84(x, y))},
        }
        for props, (x, y) in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _fix_counts(engine: Engine) -> dict[tuple[str, str, str | None], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT unit, unit_kind, area_code, count(*) FROM fixes GROUP BY 1, 2, 3")
        ).all()
    return {(unit, kind, area): n for unit, kind, area, n in rows}


def test_geojson_tracks(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    # GeoJSON (WGS84 by RFC 7946) with unit, kind and time properties: a foot unit walking
    # x = 250..290 along y = 300 (5 fixes in M4), a car's 2 fixes in M1 and on the M1/M3 border
    # (-> M1, the smaller code), and a line feature, which is no fix (row 8, rejected).
    rows: list[tuple[dict[str, object], tuple[float, float]]] = [
        (
            {"unit": "P1", "kind": "步巡", "time": f"2026-11-02T09:00:{10 * i:02d}+08:00"},
            (250 + 10 * i, 300),
        )
        for i in range(5)
    ]
    rows += [
        ({"unit": "V1", "kind": "vehicle", "time": "2026-11-02 09:00:00"}, (100, 100)),
        ({"unit": "V1", "kind": "vehicle", "time": "2026-11-02 09:00:10"}, (100, 200)),
    ]
    body = json.loads(_point_features(rows))
    line = [list(_wgs84(10, 10)), list(_wgs84(20, 20))]
    body["features"].append(
        {
            "type": "Feature",
            "properties": {"unit": "V1", "kind": "vehicle", "time": "2026-11-02 09:01:00"},
            "geometry": {"type": "LineString", "coordinates": line},
        }
    )
    path = tmp_path / "tracks.geojson"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    report = import_tracks(grid, db_settings, path)
    assert (report.inserted, report.units, report.tracks, report.crs) == (7, 2, 2, "EPSG:4326")
    assert [(p.row, p.reason) for p in report.rejected] == [
        (8, "geometry is a LineString, expected a Point")
    ]
    assert _fix_counts(grid) == {("P1", "foot", "M4"): 5, ("V1", "vehicle", "M1"): 2}
    with grid.connect() as conn:
        first = conn.execute(text("SELECT min(t) FROM fixes WHERE unit = 'P1'")).scalar_one()
    assert first == T0  # 09:00 at UTC+8


def test_gbk_track_and_visit_csvs(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    # CSVs as Excel saves them on Chinese Windows: GBK, Chinese headers (单元/方式/时间/经度/
    # 纬度 for tracks, 网格长/签到时间/经度/纬度/微网格编码 for visits) and Chinese values, read
    # through the incident importer's encoding detection. Tracks: 巡组一 walks 4 fixes in M2;
    # visits: 张三 in M3 and on the M3/M4 border (-> M3), naming M3 both times.
    tracks = ["单元,方式,时间,经度,纬度"]
    for i in range(4):
        lon, lat = _wgs84(300 + 10 * i, 100)
        tracks.append(f"巡组一,步巡,2026-11-02 09:00:{10 * i:02d},{lon:.10f},{lat:.10f}")
    visits = ["网格长,签到时间,经度,纬度,微网格编码"]
    for i, (x, y) in enumerate([(100, 300), (200, 300)]):
        lon, lat = _wgs84(x, y)
        visits.append(f"张三,2026年11月2日 09:0{i},{lon:.10f},{lat:.10f},M3")
    paths = {}
    for name, lines in (("tracks", tracks), ("visits", visits)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
        with pytest.raises(UnicodeDecodeError):
            paths[name].read_text(encoding="utf-8")
    report = import_tracks(grid, db_settings, paths["tracks"])
    assert (report.inserted, report.rejected) == (4, [])
    assert _fix_counts(grid) == {("巡组一", "foot", "M2"): 4}
    checkins = import_checkins(grid, db_settings, paths["visits"])
    assert (checkins.inserted, checkins.rejected, checkins.warnings) == (2, [], [])
    with grid.connect() as conn:
        rows = conn.execute(text("SELECT person, t, area_code FROM checkins ORDER BY t")).all()
    assert [tuple(r) for r in rows] == [
        ("张三", T0, "M3"),
        ("张三", T0 + timedelta(minutes=1), "M3"),
    ]


def test_checkins_located_by_the_spatial_join(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # Positions in GCJ-02 (a phone app): inside M3, on the M1/M2 border (-> M1), outside every
    # micro-grid (rejected), and one naming the wrong micro-grid (stored where it lies, warned).

    def gcj(x: float, y: float) -> tuple[float, float]:
        lon, lat = TO_WGS84.transform(X0 + x, Y0 + y)
        glon, glat = gcj02_from_wgs84(lon, lat)
        return float(glon), float(glat)

    rows = [
        ("张三", (100, 300), ""),
        ("张三", (200, 100), ""),
        ("李四", (900, 900), ""),
        ("李四", (300, 300), "M1"),
    ]
    lines = ["网格长,签到时间,经度,纬度,微网格编码"]
    for i, (who, (x, y), declared) in enumerate(rows):
        lon, lat = gcj(x, y)
        lines.append(f"{who},2026-11-02 09:0{i}:00,{lon:.10f},{lat:.10f},{declared}")
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_checkins(grid, db_settings, path, crs="gcj02")
    assert report.inserted == 3
    assert [(p.row, p.reason) for p in report.rejected] == [(3, "outside every micro-grid")]
    assert [p.row for p in report.warnings] == [4]
    with grid.connect() as conn:
        located = conn.execute(text("SELECT area_code FROM checkins ORDER BY t")).scalars().all()
    assert located == ["M3", "M1", "M4"]
    assert import_checkins(grid, db_settings, path, crs="gcj02").unchanged == 3
    cov = _coverage(grid, db_settings)
    assert (cov["M3"]["checkins"], cov["M1"]["checkins"], cov["M2"]["checkins"]) == (1, 1, 0)


def test_geojson_and_gpx_visits(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    # GeoJSON check-ins (person, time, micro-grid named): 李四 in M2, on the M2/M4 border
    # (-> M2), and one naming M1 while it lies in M4 (stored in M4, warned). GPX waypoints (the
    # <name> is the person): 王五 in M3, at the corner all four share (-> M1), and one outside
    # every micro-grid (rejected).
    rows: list[tuple[dict[str, object], tuple[float, float]]] = [
        ({"grid_head": "李四", "time": "2026-11-02 09:00", "micro_code": "M2"}, (300, 100)),
        ({"grid_head": "李四", "time": "2026-11-02 09:10", "micro_code": "M2"}, (300, 200)),
        ({"grid_head": "李四", "time": "2026-11-02 09:20", "micro_code": "M1"}, (300, 300)),
    ]
    path = tmp_path / "visits.geojson"
    path.write_text(_point_features(rows), encoding="utf-8")
    report = import_checkins(grid, db_settings, path)
    assert (report.inserted, report.rejected, report.crs) == (3, [], "EPSG:4326")
    assert [p.row for p in report.warnings] == [3]
    wpts = "".join(
        f'<wpt lat="{lat:.10f}" lon="{lon:.10f}"><time>{when}</time><name>王五</name></wpt>'
        for when, (lon, lat) in (
            ("2026-11-02T01:30:00Z", _wgs84(100, 300)),
            ("2026-11-02T01:40:00Z", _wgs84(200, 200)),
            ("2026-11-02T01:50:00Z", _wgs84(900, 900)),
        )
    )
    gpx = tmp_path / "visits.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/1/1">{wpts}</gpx>',
        encoding="utf-8",
    )
    waypoints = import_checkins(grid, db_settings, gpx)
    assert waypoints.inserted == 2
    assert [(p.row, p.reason) for p in waypoints.rejected] == [(3, "outside every micro-grid")]
    with grid.connect() as conn:
        stored = conn.execute(
            text("SELECT person, t, area_code, declared_code FROM checkins ORDER BY t")
        ).all()
    minute = timedelta(minutes=1)
    assert [tuple(r) for r in stored] == [
        ("李四", T0, "M2", "M2"),
        ("李四", T0 + 10 * minute, "M2", "M2"),
        ("李四", T0 + 20 * minute, "M4", "M1"),
        ("王五", T0 + 30 * minute, "M3", None),
        ("王五", T0 + 40 * minute, "M1", None),
    ]
    cov = _coverage(grid, db_settings)
    assert [cov[c]["checkins"] for c in ("M1", "M2", "M3", "M4")] == [1, 2, 1, 1]


def test_gaps_ranked_by_colour_then_last_visit(grid: Engine, db_settings: Settings) -> None:
    # Colours: M1 red, M2 orange, M3 yellow, M4 none. At 10:00 local (shift 08-16):
    # M1 visited at 09:00 today (this shift) and well covered; M2 visited yesterday 09:00 (not
    # this shift: a shift gap); M3 visited 8 days ago (weekly gap); M4 never (weekly gap).
    at = T0 + timedelta(hours=1)
    with grid.begin() as conn:
        run = conn.execute(
            text(
                "INSERT INTO risk_runs (region, as_of, params) VALUES (:r, :t, '{}') RETURNING id"
            ),
            {"r": db_settings.region, "t": at - timedelta(hours=2)},
        ).scalar_one()
        for code, colour in (("M1", "red"), ("M2", "orange"), ("M3", "yellow")):
            conn.execute(
                text(
                    "INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, "
                    "hazard_colour, incident_colour, reasons) "
                    "VALUES (:run, :r, :c, 'micro', :col, 50, :col, :col, '[]')"
                ),
                {"run": run, "r": db_settings.region, "c": code, "col": colour},
            )
    # A foot unit sweeping M1 in rows 40 m apart from x = 30 to 170 covers it all but its
    # corners (30 m discs) and nothing of M2; P2's disc covers 7 % of M2, under the 20 % bar.
    sweep = [
        (x, y)
        for y in range(20, 200, 40)
        for x in (range(30, 171, 20) if y % 80 == 20 else range(170, 29, -20))
    ]
    _post(grid, db_settings, _fixes("P1", "foot", sweep))
    _post(grid, db_settings, _fixes("P2", "foot", [(300, 100)], start=T0 - timedelta(days=1)))
    _post(grid, db_settings, _fixes("P3", "foot", [(100, 300)], start=T0 - timedelta(days=8)))
    body = json.loads(gaps_geojson(grid, db_settings, at=at))
    assert shift_of(at, db_settings).label == "2026-11-02 shift 2 (08-16)"
    ranked = [(f["properties"]["code"], f["properties"]["gaps"]) for f in body["features"]]
    assert ranked == [
        ("M2", ["shift", "coverage"]),
        ("M3", ["weekly", "coverage"]),
        ("M4", ["weekly", "coverage"]),
    ]
    assert body["counts"] == {"weekly": 2, "shift": 1, "coverage": 3}
    assert body["features"][0]["properties"]["hours_since_last_visit"] == pytest.approx(25.0)
    m1 = _coverage(grid, db_settings, hours=24 * 7, start=at - timedelta(days=7))["M1"]
    assert m1["covered_share"] > 0.95
    scoped = json.loads(gaps_geojson(grid, db_settings, at=at, area="M4"))
    assert [f["properties"]["code"] for f in scoped["features"]] == ["M4"]


def test_http_tracks_visits_coverage_gaps(grid: Engine, db_settings: Settings) -> None:
    # The same border track through the API: posted as WGS84 lon/lat, read back per grid3.
    with api_client(db_settings) as client:
        points = [TO_WGS84.transform(X0 + 200, Y0 + 50 + 10 * i) for i in range(11)]
        fixes = [
            {"time": (T0 + timedelta(seconds=10 * i)).isoformat(), "lon": lon, "lat": lat}
            for i, (lon, lat) in enumerate(points)
        ]
        posted = client.post("/api/tracks", json={"unit": "P1", "kind": "步巡", "fixes": fixes})
        assert posted.status_code == 200
        assert (posted.json()["inserted"], posted.json()["tracks"]) == (11, 1)
        lon, lat = TO_WGS84.transform(X0 + 300, Y0 + 300)
        visit = {"person": "张三", "time": "2026-11-02T09:30:00", "lon": lon, "lat": lat}
        assert client.post("/api/visits", json={"checkins": [visit]}).json()["inserted"] == 1
        got = client.get(
            "/api/coverage",
            params={"level": "grid3", "from": "2026-11-02", "to": "2026-11-03"},
        )
        assert got.headers["content-type"] == "application/geo+json"
        g3 = got.json()["features"][0]["properties"]
        half = (100 * 60 + math.pi * 30**2) / 2
        assert g3["covered_m2"] == pytest.approx(2 * half, rel=DISC_TOL)
        assert (g3["visits"], g3["checkins"], g3["micro_grids_unvisited"]) == (1, 1, 2)
        shift = client.get("/api/coverage", params={"period": "shift", "at": "2026-11-02T09:00"})
        assert shift.json()["period"]["label"] == "2026-11-02 shift 2 (08-16)"
        gaps = client.get("/api/gaps", params={"area": "G3", "at": "2026-11-02T10:00"}).json()
        assert [f["properties"]["code"] for f in gaps["features"]] == ["M2", "M3", "M1", "M4"]
        assert client.get("/api/coverage", params={"from": "2026-11-02"}).status_code == 400
        # A century of shifts is refused at once, not computed shift by shift (found by fuzzing).
        century = client.get("/api/coverage", params={"from": "1926-11-02", "to": "2026-11-02"})
        assert century.status_code == 400
        assert "at most 366 days" in century.json()["detail"]
        assert client.get("/api/gaps", params={"area": "nowhere"}).status_code == 404
        # The page reaches every shift of a day, and keeps the choice in its form.
        for n, hours in ((1, "00-08"), (2, "08-16")):
            page = client.get(
                "/maps/coverage", params={"period": "shift", "at": "2026-11-02", "shift": n}
            )
            assert page.status_code == 200
            assert f"2026-11-02 shift {n} ({hours})" in page.text
            assert f'<option value="{n}" selected>' in page.text
            assert 'value="2026-11-02"' in page.text
        wrong = {"period": "shift", "at": "2026-11-02", "shift": "4"}
        assert client.get("/maps/coverage", params=wrong).status_code == 400
        # Tomorrow's shift: nothing drawn yet, and the gaps are now's, not tomorrow's.
        tomorrow = (clock.today(db_settings.timezone) + timedelta(days=1)).isoformat()
        zh = translator("zh_CN")

        def gaps_shift() -> str:
            now_shift = shift_of(clock.utcnow(), db_settings).start
            return period_text(PeriodKind.SHIFT, now_shift, db_settings, zh)

        before = gaps_shift()
        page = client.get("/maps/coverage", params={"period": "shift", "at": tomorrow, "shift": 3})
        after = gaps_shift()  # the same but at a shift change
        assert page.status_code == 200
        assert before in page.text or after in page.text
        bad = client.post("/api/tracks", json={"unit": "P1", "kind": "horse", "fixes": fixes[:1]})
        assert bad.json()["rejected"][0]["reason"].startswith("unknown unit kind 'horse'")


def test_gaps_at_every_level_read_the_coverage_roll_up(grid: Engine, db_settings: Settings) -> None:
    # P2's single 30 m disc covers pi 30^2 of M2: G3 (and G2, S: the same four micro-grids) is
    # covered about 1.8 %, under the 20 % bar; the same figure as GET /api/coverage's roll-up.
    at = T0 + timedelta(hours=1)
    _post(grid, db_settings, _fixes("P2", "foot", [(300, 100)]))
    disc = math.pi * 30**2 / 160000
    for level, code in ((Level.GRID3, "G3"), (Level.GRID2, "G2"), (Level.SUBDISTRICT, "S")):
        body = json.loads(gaps_geojson(grid, db_settings, at=at, level=level))
        assert body["level"] == level.value
        assert [f["properties"]["code"] for f in body["features"]] == [code]
        props = body["features"][0]["properties"]
        assert (props["level"], props["gaps"], props["rank"]) == (level.value, ["coverage"], 1)
        assert props["covered_share"] == pytest.approx(disc, abs=1e-4)  # rounded to 4 places
        rolled = _coverage(grid, db_settings, hours=24, start=at - timedelta(hours=24), level=level)
        assert props["covered_share"] == rolled[code]["covered_share"]
        assert body["counts"] == {"weekly": 0, "shift": 0, "coverage": 1}
    # Sweeping M1 and M3 (rows 40 m apart) lifts G3 over the bar: no grid3 gap, micro gaps stay.
    sweep = [
        (x, y)
        for y in range(20, 400, 40)
        for x in (range(30, 171, 20) if y % 80 == 20 else range(170, 29, -20))
    ]
    _post(grid, db_settings, _fixes("P1", "foot", sweep))
    assert json.loads(gaps_geojson(grid, db_settings, at=at, level=Level.GRID3))["features"] == []
    micro = json.loads(gaps_geojson(grid, db_settings, at=at))
    assert [f["properties"]["code"] for f in micro["features"]] == ["M4", "M2"]  # never first
    with api_client(db_settings) as client:
        got = client.get("/api/gaps", params={"level": "grid3", "at": at.isoformat()})
        assert got.status_code == 200
        assert got.json()["level"] == "grid3"
        assert client.get("/api/gaps", params={"level": "nope"}).status_code == 422


def test_gaps_are_never_computed_for_the_future(
    grid: Engine, db_settings: Settings, frozen: Instant
) -> None:
    # Asked for next week, the list is the one of now: its shift and week end now, and the visit
    # made an hour ago is inside its week (it would be too, but the shift would not be now's).
    # Asked for no time at all (GET /api/gaps), it is now's too: the district's shift and week.
    settings = db_settings.replace(timezone=frozen.timezone)
    now = clock.utcnow()
    body = json.loads(gaps_geojson(grid, settings, at=now + timedelta(days=7)))
    assert abs(datetime.fromisoformat(body["at"]) - now) < timedelta(minutes=5)
    assert body["shift"]["label"] == shift_of(now, settings).label
    with api_client(settings) as client:
        default = client.get("/api/gaps").json()
    assert abs(datetime.fromisoformat(default["at"]) - frozen.local) < timedelta(minutes=5)
    assert default["shift"]["label"] == shift_of(frozen.local, settings).label


def test_tracks_split_by_shift_and_a_single_fix_is_a_point(
    grid: Engine, db_settings: Settings
) -> None:
    # P1 zigzags across the 08:00 shift change (local): 07:59:40 to 08:00:10, a fix every 10 s.
    # Its shift-1 piece runs on to its first fix of shift 2, so the segment across is drawn.
    # P9 has a single fix at 09:00: a point, not dropped.
    change = T0 - timedelta(hours=1)  # 08:00 local
    zigzag = [(50 + 10 * i, 50 + 10 * (i % 2)) for i in range(4)]
    _post(grid, db_settings, _fixes("P1", "foot", zigzag, start=change - timedelta(seconds=20)))
    _post(grid, db_settings, _fixes("P9", "vehicle", [(300, 300)]))
    day = between(T0 - timedelta(hours=9), T0 + timedelta(hours=15))
    tracks = json.loads(tracks_geojson(grid, db_settings, period=day))["features"]
    got = [
        (f["properties"]["unit"], f["properties"]["shift_no"], f["properties"]["fixes"],
         f["geometry"]["type"], len(f["geometry"]["coordinates"]))
        for f in tracks
    ]  # fmt: skip
    assert got == [("P1", 1, 2, "LineString", 3), ("P1", 2, 2, "LineString", 2),
                   ("P9", 2, 1, "Point", 2)]  # fmt: skip
    assert tracks[0]["properties"]["shift"] == "2026-11-02 shift 1 (00-08)"
    assert tracks[2]["properties"]["shift"] == "2026-11-02 shift 2 (08-16)"
    lon, lat = tracks[2]["geometry"]["coordinates"]
    assert TO_WGS84.transform(X0 + 300, Y0 + 300) == (pytest.approx(lon), pytest.approx(lat))
    # Clipped to M4 the point stays; clipped to M1 it is gone and P1's lines stay.
    inside = json.loads(tracks_geojson(grid, db_settings, period=day, area="M4"))["features"]
    assert [f["properties"]["unit"] for f in inside] == ["P9"]
    in_m1 = json.loads(tracks_geojson(grid, db_settings, period=day, area="M1"))["features"]
    assert [f["properties"]["unit"] for f in in_m1] == ["P1", "P1"]


def test_covered_area_is_the_union_of_the_buffers(grid: Engine, db_settings: Settings) -> None:
    # The border track of test_track_along_a_border: drawn as two pieces (one per micro-grid),
    # whose areas add up to the stadium, in WGS84, and exactly the covered m² of the coverage.
    _post(grid, db_settings, _fixes("P1", "foot", [(200, 50 + 10 * i) for i in range(11)]))
    coverage, cover = coverage_and_cover(
        grid, db_settings, period=between(T0, T0 + timedelta(hours=1)), simplify_m=0.0
    )
    by_code = {f["properties"]["code"]: f["properties"] for f in json.loads(coverage)["features"]}
    pieces = json.loads(cover)["features"]
    assert [f["properties"]["code"] for f in pieces] == ["M1", "M2"]
    to_metric = Transformer.from_crs(4326, 4547, always_xy=True)

    def metric_area(geometry: dict[str, Any]) -> float:
        shaped = shapely.geometry.shape(geometry)

        def to_4547(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))

        return float(shapely.transform(shaped, to_4547).area)

    stadium = 100 * 60 + math.pi * 30**2
    total = 0.0
    for piece in pieces:
        code = piece["properties"]["code"]
        area = metric_area(piece["geometry"])
        assert area == pytest.approx(by_code[code]["covered_m2"], rel=1e-3)  # 6 decimals: ~0.1 m
        assert piece["properties"]["covered_m2"] == by_code[code]["covered_m2"]
        total += area
    assert total == pytest.approx(stadium, rel=DISC_TOL)
    # Simplified for the page (0.5 m) the discs' arcs become chords: less than 1 % is lost here
    # (a 30 m arc simplified at 0.5 m is a 17-gon, 2.2 % short of the disc; the ends are a
    # third of the stadium).
    _coverage_text, drawn = coverage_and_cover(
        grid, db_settings, period=between(T0, T0 + timedelta(hours=1))
    )
    drawn_m2 = sum(metric_area(f["geometry"]) for f in json.loads(drawn)["features"])
    assert 0.99 * stadium < drawn_m2 < stadium


def test_demo_month_has_real_gaps(demo: Engine, demo_settings: Settings) -> None:
    # The demo's synthetic month (demo/patrols.py) loaded by `gridsafe demo`:
    # patrols every shift, and gaps of every kind a grid head should see.
    at = clock.utcnow()
    body = json.loads(gaps_geojson(demo, demo_settings, at=at))
    assert body["counts"]["weekly"] > 0
    assert body["counts"]["coverage"] > 0
    day = json.loads(
        coverage_geojson(
            demo, demo_settings, period=between(at - timedelta(days=1), at), level=Level.GRID2
        )
    )
    shares = [f["properties"]["covered_share"] for f in day["features"]]
    assert len(shares) == 12
    assert max(shares) > 0.3
    # The two level-2 grids only vehicles patrol, on the main roads, stand apart from the ten
    # that are walked (about 0.5-0.65 against 0.89 and more over any day of the month).
    ranked = sorted(shares)
    assert max(ranked[:2]) < 0.8 * min(ranked[2:])
