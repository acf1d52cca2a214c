"""The import's fast path: a command line that starts without the heavy libraries, times read
in bulk, batches written while the next is checked, and points outside the district counted in
one line with their list in the report file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine, text

from geo.crs import parse_crs, to_target, to_wgs84
from geo.settings import Settings
from geo.times import epoch_seconds
from tests.clients import gridsafe
from tests.districts import store_areas

# What neither `gridsafe --help` nor an import of records may load: the risk engine's
# statistics, the route solvers, plotting, the web server and app, and the migrations.
HEAVY = (
    "esda",
    "libpysal",
    "scipy",
    "sklearn",
    "ortools",
    "pyvrp",
    "matplotlib",
    "folium",
    "fastapi",
    "uvicorn",
    "alembic",
    "networkx",
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a new interpreter; the heavy top-level packages it left in sys.modules."""
    script = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_help_loads_no_heavy_library() -> None:
    code = "from cli.main import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
    assert _loaded_after(code) == []


def test_every_group_help_loads_no_heavy_library() -> None:
    groups = ("db", "import", "risk", "network", "routes", "user", "types")
    code = "from cli.main import app\n" + "".join(
        f"try:\n    app(['{g}', '--help'])\nexcept SystemExit:\n    pass\n" for g in groups
    )
    assert _loaded_after(code) == []


# One micro-grid, a 100 m square, under its three ancestors (EPSG:4547, near Zhengzhou).
ORIGIN = to_target(113.684, 34.772, parse_crs("EPSG:4326"), 4547)


def _square(w: float) -> str:
    x, y = float(ORIGIN[0]), float(ORIGIN[1])
    return f"MULTIPOLYGON((({x} {y},{x + w} {y},{x + w} {y + w},{x} {y + w},{x} {y})))"


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = to_wgs84(float(ORIGIN[0]) + dx, float(ORIGIN[1]) + dy, parse_crs("EPSG:4547"))
    return float(lon), float(lat)


@pytest.fixture
def square(db: Engine, db_settings: Settings) -> Engine:
    rows = [
        ("S", "subdistrict", None, [], _square(100)),
        ("G", "grid2", "S", ["S"], _square(100)),
        ("T", "grid3", "G", ["S", "G"], _square(100)),
        ("M", "micro", "T", ["S", "G", "T"], _square(100)),
    ]
    with db.begin() as conn:
        store_areas(conn, db_settings.region, rows)
    return db


def _incidents(path: Path, inside: int, outside: int) -> Path:
    """``inside`` points in the square, then ``outside`` points 1 km east, then one bad row."""
    lines = ["source,source_id,type,occurred_at,lon,lat"]
    for i in range(inside):
        lon, lat = _lonlat(10 + i % 80, 50)
        lines.append(f"110,IN{i},fire,2025-03-01 08:{i % 60:02d},{lon:.7f},{lat:.7f}")
    for i in range(outside):
        lon, lat = _lonlat(1000 + i, 50)
        lines.append(f"110,OUT{i},theft,2025-03-02 09:30:00,{lon:.7f},{lat:.7f}")
    lines.append("110,BAD1,fire,2025-02-30 08:00,113.7,34.76")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_outside_points_are_one_line_and_listed_in_the_report_file(
    square: Engine, db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # the console wraps at 80 columns without a terminal
    csv = _incidents(tmp_path / "incidents.csv", inside=5, outside=1200)
    report = tmp_path / "report.txt"
    done = gridsafe(db_settings, "import", "incidents", str(csv), "--report", str(report))
    assert done.returncode == 0, done.stderr
    run_line, *lines = done.stdout.splitlines()
    assert run_line.startswith("import run ")  # the history's id of this run
    assert lines[0].startswith("incidents from incidents (EPSG:4326): ")
    assert "loaded 1205 (new 1205, updated 0, unchanged 0), rejected 1" in lines[0]
    # The bad row is still reported on its own, with its row number and reason.
    assert "  rejected row 1207 'BAD1': occurred_at '2025-02-30 08:00' is not a date/time" in (
        done.stdout
    )
    summary = [line for line in lines if "outside" in line]
    assert summary == [f"  1,200 points outside the district; list in {report}"]
    assert len(lines) == 3
    listed = report.read_text(encoding="utf-8").splitlines()
    outside = [line for line in listed if line.endswith("outside every area: kept with no area")]
    assert [line.split("'")[1] for line in outside] == [f"OUT{i}" for i in range(1200)]
    assert outside[0] == "  warning row 7 'OUT0': outside every area: kept with no area"
    assert any(line.startswith("  rejected row 1207 'BAD1'") for line in listed)
    with square.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*), count(area_code) FROM incidents WHERE region = :r"),
            {"r": db_settings.region},
        ).one()
    assert tuple(stored) == (1205, 5)

    # Again: nothing changes, and the summary says the same.
    again = gridsafe(db_settings, "import", "incidents", str(csv), "--report", str(report))
    assert "loaded 1205 (new 0, updated 0, unchanged 1205), rejected 1" in again.stdout
    assert f"  1,200 points outside the district; list in {report}" in again.stdout


def test_a_file_with_no_point_outside_writes_no_report(
    square: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    csv = _incidents(tmp_path / "inside.csv", inside=3, outside=0)
    report = tmp_path / "report.txt"
    done = gridsafe(db_settings, "import", "incidents", str(csv), "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "outside" not in done.stdout
    assert not report.exists()


def test_importing_records_loads_no_heavy_library(
    square: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    csv = _incidents(tmp_path / "incidents.csv", inside=3, outside=2)
    report = tmp_path / "report.txt"
    code = (
        "from cli.main import app\n"
        f"app(['import', 'incidents', {str(csv)!r}, '--report', {str(report)!r}], "
        "standalone_mode=False)\n"
    )
    loaded = _loaded_after(code, {"GRIDSAFE_DATABASE_URL": db_settings.db.database_url})
    assert loaded == []
    assert report.exists()  # the import did run


def _local(text_: str) -> float:
    return datetime.fromisoformat(text_).replace(tzinfo=SHANGHAI).timestamp()


# Cells the bulk reader takes or leaves, with the answer every importer must give (NaN: the
# row is rejected). Mixed into one batch so that each cell goes through the bulk reader with
# the others, not alone.
EDGE_CASES = [
    ("2025-03-01 08:30", _local("2025-03-01T08:30")),
    ("2025-03-01T08:30:15", _local("2025-03-01T08:30:15")),
    ("2024-02-29 12:00", _local("2024-02-29T12:00")),  # a leap day
    ("2000-02-29 00:00:00", _local("2000-02-29T00:00")),  # 400 divides 2000: leap
    ("2100-02-29 00:00", None),  # 100 divides 2100: no leap day
    ("2025-02-29 12:00", None),
    ("2025-04-31 08:00", None),
    ("2025-12-31 23:59:59", _local("2025-12-31T23:59:59")),
    ("2025-01-01 24:00", None),
    ("2025-01-01 23:60", None),
    ("2025-00-10 10:00", None),
    ("2025-13-01 10:00", None),
    ("2025-01-00 10:00", None),
    ("1700-01-01 00:00", _local("1700-01-01T00:00")),
    ("2262-04-11 23:47:16", _local("2262-04-11T23:47:16")),  # left to pandas: its last second
    ("2263-01-01 00:00", None),
    ("1600-01-01 00:00", None),
    ("1990-04-15 02:30", None),  # China's summer time began: this local time never was
    ("1990-09-16 01:30", None),  # ... and ended: this one was twice
    ("1990-04-15 03:30", _local("1990-04-15T03:30")),
    ("2025-03-01t08:30", None),
    ("2025-03-01_08:30", None),
    ("2025-03-01 08:3x", None),
    ("２０２５-03-01 08:30", None),  # full-width digits
    ("2025/03/01 08:30", _local("2025-03-01T08:30")),
    ("2025-03-01 8:30", _local("2025-03-01T08:30")),
    ("2025-03-01 08:30:00.5", _local("2025-03-01T08:30:00.5")),
    ("2025-03-01 08:30Z", datetime.fromisoformat("2025-03-01T08:30+00:00").timestamp()),
    ("2025-03-01 08:30:00+08:00", _local("2025-03-01T08:30")),
    ("1740000000", 1740000000.0),
    (None, None),
]


def test_bulk_times_take_only_valid_plain_times() -> None:
    rng = np.random.default_rng(7)
    plain = [f"2025-{m:02d}-{d:02d} {h:02d}:{mi:02d}" for m, d, h, mi in [(5, 17, 6, 5)] * 50]
    cells = plain + [c for c, _ in EDGE_CASES]
    order = rng.permutation(len(cells))
    values = np.array(cells, dtype=object)[order]
    got = epoch_seconds(values, SHANGHAI)
    expected = np.array(
        [_local("2025-05-17T06:05")] * len(plain)
        + [np.nan if v is None else v for _, v in EDGE_CASES]
    )[order]
    bad = [
        (values[i], got[i], expected[i])
        for i in range(len(values))
        # To the millisecond: seconds of 1700 as a float are not whole in the last bit.
        if not np.isclose(got[i], expected[i], rtol=0, atol=1e-3, equal_nan=True)
    ]
    assert bad == []


def test_bulk_times_of_one_form_agree_with_the_general_way() -> None:
    """The same instants read in the bulk form and in forms the bulk reader leaves."""
    rng = np.random.default_rng(3)
    seconds = rng.integers(0, 60 * 365 * 86400, 2000) + 946684800  # 2000-2060
    stamps = [datetime.fromtimestamp(int(s), SHANGHAI) for s in seconds]
    plain = np.array([s.strftime("%Y-%m-%d %H:%M:%S") for s in stamps], dtype=object)
    slashed = np.array([s.strftime("%Y/%m/%d %H:%M:%S") for s in stamps], dtype=object)
    assert np.array_equal(epoch_seconds(plain, SHANGHAI), seconds.astype(float))
    assert np.array_equal(epoch_seconds(slashed, SHANGHAI), seconds.astype(float))
