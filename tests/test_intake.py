"""The intake wing: one way in for every importer, so the rules written once hold for each.

Records (``Rows``), tracks and check-ins (``Points``) and boundaries and layers (``Features``)
open their files with the same ``open_table``: a header alias, a file ending, an encoding or a
CRS rule accepted by one is accepted by the others. The files are made here, in EPSG:4547 near
Zhengzhou's Weilai Road, and read without a database.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from geo.crs import parse_crs, to_wgs84
from geo.errors import CRSError, InputError
from geo.intake import (
    ALIASES,
    VECTOR_SUFFIXES,
    Features,
    PointBatch,
    Points,
    RawBatch,
    Rows,
    open_table,
    paused_gc,
)
from geo.intake.files import FORMATS
from geo.intake.rows import FIRST_BATCH_ROWS

X0, Y0 = 472_000.0, 3_848_000.0
LON0, LAT0 = (float(v) for v in to_wgs84(X0, Y0, parse_crs("EPSG:4547")))


def _rows() -> Rows:
    return Rows(batch_rows=100, required=("type", "occurred_at"))


def _points() -> Points:
    return Points(
        srid=4547,
        roles=("unit", "kind"),
        required=("unit", "kind"),
        defaults={"unit": None, "kind": None},
        timezone="Asia/Shanghai",
        batch_rows=100,
    )


def _record_batches(path: Path, crs: str | None = None) -> list[RawBatch]:
    return list(open_table(path, crs, _rows()).batches)


def _point_batches(path: Path, crs: str | None = None) -> list[PointBatch]:
    return list(open_table(path, crs, _points()).batches)


def _csv(path: Path, header: tuple[str, str], x: float, y: float, encoding: str = "utf-8") -> Path:
    """One row that is both an incident (type, occurred_at) and a fix (unit, kind, 定位时间)."""
    lines = [
        f"{header[0]},{header[1]},type,occurred_at,unit,kind,定位时间",
        f"{x},{y},theft,2025-03-01 08:30,P1,foot,2025-03-01 08:30",
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


COORDINATE_PAIRS = [
    (lon, lat) for lon, lat in zip(ALIASES["lon"], ALIASES["lat"], strict=False)
] + [(x, y) for x, y in zip(ALIASES["x"], ALIASES["y"], strict=True)]


@pytest.mark.parametrize("header", COORDINATE_PAIRS, ids="/".join)
def test_every_coordinate_alias_is_read_by_records_and_tracks(
    tmp_path: Path, header: tuple[str, str]
) -> None:
    # easting/northing were a track's only, x坐标/y坐标 a record's only, before one table.
    degrees = header[0] in ALIASES["lon"]
    x, y = (LON0, LAT0) if degrees else (X0, Y0)
    crs = None if degrees else "EPSG:4547"
    path = _csv(tmp_path / "one.csv", header, x, y)

    (records,) = _record_batches(path, crs)
    role_x, role_y = ("lon", "lat") if degrees else ("x", "y")
    assert float(records.cells[role_x][0]) == pytest.approx(x)
    assert float(records.cells[role_y][0]) == pytest.approx(y)
    assert set(records.extra) == {"unit", "kind", "定位时间"}, "a coordinate header is unknown"

    (fixes,) = _point_batches(path, crs)
    assert not fixes.rejected
    assert fixes.x[0] == pytest.approx(X0, abs=1e-3)
    assert fixes.y[0] == pytest.approx(Y0, abs=1e-3)


def _shapefile_zip(tmp_path: Path, name: str = "points", *, copies: int = 1) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "type": ["theft", "fight"],
            "occurred_a": ["2025-03-01 08:30", "2025-03-01 09:00"],  # occurred_at, cut to 10
            "unit": ["P1", "P1"],
            "kind": ["foot", "foot"],
            "t": ["2025-03-01 08:30", "2025-03-01 09:00"],
        },
        geometry=[Point(X0, Y0), Point(X0 + 50, Y0 + 20)],
        crs="EPSG:4547",
    )
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / f"{name}.shp", engine="pyogrio")
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for copy in range(copies):
            for part in sorted(folder.glob(f"{name}.*")):
                zf.write(part, f"{copy}/{part.name}" if copies > 1 else part.name)
    return archive


def test_a_zipped_shapefile_is_read_by_records_tracks_and_boundaries(tmp_path: Path) -> None:
    # .zip was one of the vector endings for boundaries only: records and tracks refused it.
    archive = _shapefile_zip(tmp_path)

    table = open_table(archive, None, _rows())
    assert table.crs.name == "EPSG:4547"
    (records,) = list(table.batches)
    assert records.rows.tolist() == [1, 2]
    assert [float(v) for v in records.cells["x"]] == [X0, X0 + 50]
    assert records.cells["occurred_at"].tolist() == ["2025-03-01 08:30", "2025-03-01 09:00"]

    (fixes,) = _point_batches(archive)
    assert fixes.rows.tolist() == [1, 2]
    np.testing.assert_allclose(fixes.x, [X0, X0 + 50], atol=1e-6)
    assert fixes.values["unit"] == ["P1", "P1"]

    (features,) = list(open_table(archive, None, Features(srid=4547)).batches)
    assert features.index.tolist() == [1, 2]
    assert features.geometry.x.tolist() == pytest.approx([X0, X0 + 50])


@pytest.mark.parametrize("reader", [_rows, _points, lambda: Features(srid=4547)])
def test_the_zip_rules_hold_for_every_reader(
    tmp_path: Path, reader: Callable[[], Rows | Points | Features]
) -> None:
    archive = _shapefile_zip(tmp_path, copies=2)
    with pytest.raises(InputError, match=re.escape("must hold exactly one .shp, found 2")):
        list(open_table(archive, None, reader()).batches)


def test_vector_endings_are_the_same_for_every_reader(tmp_path: Path) -> None:
    assert {".geojson", ".json", ".gpkg", ".shp", ".zip"} == VECTOR_SUFFIXES
    for reader in (_rows(), _points(), Features(srid=4547)):
        assert set(reader.families) >= {"vector"}
    assert {s for s, f in FORMATS.items() if f == "vector"} == VECTOR_SUFFIXES


@pytest.mark.parametrize(
    ("reader", "named"),
    [
        (_rows, ".csv, .geojson, .gpkg, .json, .shp, .txt, .xlsx, .zip"),
        (_points, ".csv, .geojson, .gpkg, .gpx, .json, .shp, .txt, .zip"),
        (lambda: Features(srid=4547), ".geojson, .gpkg, .json, .shp, .zip"),
    ],
)
def test_an_unknown_ending_is_refused_naming_what_the_reader_reads(
    tmp_path: Path, reader: Callable[[], Rows | Points | Features], named: str
) -> None:
    path = tmp_path / "points.kml"
    path.write_text("<kml/>", encoding="utf-8")
    message = f"points.kml: unsupported format '.kml' (use {named})"
    with pytest.raises(InputError, match=re.escape(message)):
        open_table(path, None, reader())


def test_a_gbk_file_is_read_the_same_by_records_and_tracks(tmp_path: Path) -> None:
    # Excel on Chinese Windows saves CSV in GBK: one detector tells it from UTF-8 for both.
    path = _csv(tmp_path / "gbk.csv", ("经度", "纬度"), LON0, LAT0, encoding="gbk")
    (records,) = _record_batches(path)
    assert float(records.cells["lon"][0]) == pytest.approx(LON0)
    (fixes,) = _point_batches(path)
    assert fixes.x[0] == pytest.approx(X0, abs=1e-3)


def test_not_text_is_refused_the_same_by_records_and_tracks(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xef\xbb\xbflon,lat\n\xff\xfe,1\n")  # a UTF-8 BOM, then no UTF-8
    for read in (_record_batches, _point_batches):
        with pytest.raises(InputError, match="line 2 is not valid text: bytes ff fe"):
            read(path)


def test_the_crs_rule_is_the_same_for_records_and_tracks(tmp_path: Path) -> None:
    # A --crs contradicting the file's own CRS wins, with the same warning for both.
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(
        {
            "type": ["theft"],
            "occurred_at": ["2025-03-01 08:30"],
            "unit": ["P1"],
            "kind": ["foot"],
            "t": ["2025-03-01 08:30"],
        },
        geometry=[Point(LON0, LAT0)],
        crs="EPSG:4326",
    ).to_file(path, engine="pyogrio")
    warnings = [
        [w.reason for w in open_table(path, "EPSG:4490", reader).warnings]
        for reader in (_rows(), _points())
    ]
    assert warnings[0] == warnings[1] == ["--crs EPSG:4490 overrides the file's own CRS EPSG:4326"]
    # Degrees called metres are refused by both (the file is mislabelled).
    with pytest.raises(CRSError, match="do not fit EPSG:4547"):
        _point_batches(path, "EPSG:4547")
    (records,) = _record_batches(path, "EPSG:4547")  # records check each row instead
    assert records.rows.tolist() == [1]


def test_the_digest_is_the_files_sha256(tmp_path: Path) -> None:
    path = _csv(tmp_path / "one.csv", ("lon", "lat"), LON0, LAT0)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert open_table(path, None, _rows()).digest == expected
    assert open_table(path, None, _points()).digest == expected


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_table(tmp_path / "gone.csv", None, _rows())


def test_the_intake_never_calls_back_into_an_importer() -> None:
    # The import walk goes one way: records, coverage, boundaries and layers call the intake.
    allowed = {"geo.clock", "geo.crs", "geo.errors", "geo.times"}
    folder = Path(__file__).resolve().parents[1] / "geo" / "intake"
    found: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "geo":
                names = [f"geo.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "geo" and not name.startswith("geo.intake"):
                    found.setdefault(path.name, set()).add(name)
    outside = {
        f: {n for n in names if not any(n == a or n.startswith(a + ".") for a in allowed)}
        for f, names in found.items()
    }
    assert not any(outside.values()), outside
    assert found, "the scan found no imports at all"


def test_a_files_first_batch_is_small_so_the_database_starts_early(tmp_path: Path) -> None:
    """The first batch holds FIRST_BATCH_ROWS rows at the most, the others batch_rows: the
    database writes the first while the next is read; every row comes once, in order."""
    n = FIRST_BATCH_ROWS + 2_500
    lines = ["lon,lat,type,occurred_at"] + [f"{LON0},{LAT0},theft,2025-03-01 08:30"] * n
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = Rows(batch_rows=FIRST_BATCH_ROWS * 2, required=("type", "occurred_at"))
    batches = list(open_table(path, None, rows).batches)
    assert [len(b) for b in batches] == [FIRST_BATCH_ROWS, 2_500]
    assert np.concatenate([b.rows for b in batches]).tolist() == list(range(2, n + 2))


def test_the_collector_pause_ends_with_the_last_of_overlapping_imports() -> None:
    """Two imports' pauses that overlap without nesting: the collector stays off until the
    second ends, then runs again; a collector that was off stays off."""
    assert gc.isenabled()
    first, second = paused_gc(), paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
