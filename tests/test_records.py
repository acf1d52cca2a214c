"""Locating incidents and hazards: every rule on a hand-made grid of four 100 m squares.

The grid (EPSG:4547, metres, origin near Zhengzhou's Weilai Road)::

    y=200 +--------+--------+
          |  M3    |  M4    |
    y=100 +--------+--------+
          |  M1    |  M2    |
    y=0   +--------+--------+
          x=0     100      200

under one level-3 grid T, one level-2 grid G and the sub-district S. Answers are worked out by
hand: (150, 50) is in M2's interior; (100, 50) is on the M1/M2 edge, so the smallest code, M1;
(100, 100) is the vertex of all four, so M1 again; (100, 150) on the M3/M4 edge goes to M3;
(300, 50) is outside everything.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from openpyxl import Workbook
from shapely import Point
from sqlalchemy import Engine, text

from geo.coverage.tracks import ensure_partitions
from geo.crs import bd09_from_wgs84, gcj02_from_wgs84, parse_crs, to_target, to_wgs84
from geo.database import make_engine
from geo.errors import InputError
from geo.locate import relocate
from geo.records import add_incident_type, import_records, list_records
from geo.settings import Settings
from tests.clients import api_client
from tests.districts import store_areas

ORIGIN = tuple(round(float(v)) for v in to_target(113.684, 34.772, parse_crs("EPSG:4326"), 4547))
SQUARES = {"M1": (0, 0), "M2": (100, 0), "M3": (0, 100), "M4": (100, 100)}


def _box(x0: float, y0: float, w: float, h: float) -> str:
    x, y = ORIGIN[0] + x0, ORIGIN[1] + y0
    return f"MULTIPOLYGON((({x} {y},{x + w} {y},{x + w} {y + h},{x} {y + h},{x} {y})))"


def _wgs84(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = to_wgs84(ORIGIN[0] + dx, ORIGIN[1] + dy, parse_crs("EPSG:4547"))
    return float(lon), float(lat)


@pytest.fixture
def grid(db: Engine, db_settings: Settings) -> Engine:
    """The four squares and their ancestors, plus two addressed buildings in M2 and M4."""
    rows = [
        ("S", "subdistrict", None, [], _box(0, 0, 200, 200)),
        ("G", "grid2", "S", ["S"], _box(0, 0, 200, 200)),
        ("T", "grid3", "G", ["S", "G"], _box(0, 0, 200, 200)),
    ] + [(c, "micro", "T", ["S", "G", "T"], _box(x, y, 100, 100)) for c, (x, y) in SQUARES.items()]
    with db.begin() as conn:
        store_areas(conn, db_settings.region, rows)
        for ident, address, (x, y) in (
            ("B1", "郑州市金水区未来路街道未来路123号", (140, 40)),
            ("B2", "郑州市金水区未来路街道锦绣小区5号楼", (140, 140)),
        ):
            conn.execute(
                text(
                    "INSERT INTO buildings (region, building_id, address, geom) "
                    "VALUES (:r, :i, :a, ST_GeomFromText(:w, 4547))"
                ),
                {"r": db_settings.region, "i": ident, "a": address, "w": _box(x, y, 20, 20)},
            )
    return db


def _csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def _areas(engine: Engine, table: str = "incidents") -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text(f"SELECT source_id, area_code FROM {table} ORDER BY source_id")).all()
        )


def test_border_rule_edge_vertex_interior_and_outside(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    pts = {"in": (150, 50), "edge": (100, 50), "vertex": (100, 100), "top": (100, 150)}
    pts["out"] = (300, 50)
    lines = ["source,source_id,type,occurred_at,x,y"] + [
        f"110,{k},fire,2025-03-01 08:30,{ORIGIN[0] + dx},{ORIGIN[1] + dy}"
        for k, (dx, dy) in pts.items()
    ]
    report = import_records(
        grid, db_settings, _csv(tmp_path / "b.csv", lines), kind="incidents", crs="EPSG:4547"
    )
    assert report.inserted == 5
    assert report.rejected == []
    assert _areas(grid) == {"in": "M2", "edge": "M1", "vertex": "M1", "top": "M3", "out": None}
    # The outside point is kept, reported and listed; the others carry their whole path.
    assert [(w.row, w.ident) for w in report.warnings] == [(6, "out")]
    outside = json.loads(list_records(grid, db_settings, kind="incidents", outside=True))
    assert outside["total"] == 1
    assert outside["features"][0]["properties"]["source_id"] == "out"
    with grid.connect() as conn:
        path = conn.execute(text("SELECT area_path FROM incidents WHERE source_id='in'")).scalar()
    assert path == ["S", "G", "T", "M2"]


def test_broken_rows_reported_row_by_row_good_rows_all_load(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    lon, lat = _wgs84(150, 50)
    lines = [
        "source,source_id,type,occurred_at,lon,lat",
        f"110,ok1,fire,2025-03-01 08:30,{lon},{lat}",  # line 2: good
        f"110,bad-num,fire,2025-03-01 08:30,abc,{lat}",  # 3
        f"110,missing,fire,2025-03-01 08:30,{lon}",  # 4: a field short
        f"110,swapped,fire,2025-03-01 08:30,{lat},{lon}",  # 5
        "",  # 6: empty line
        f"110,nan,fire,2025-03-01 08:30,nan,{lat}",  # 7
        f"110,inf,fire,2025-03-01 08:30,{lon},inf",  # 8
        f"110,badtype,meteor,2025-03-01 08:30,{lon},{lat}",  # 9
        f"110,badtime,fire,2025-13-45 99:00,{lon},{lat}",  # 10
        "110,noloc,fire,2025-03-01 08:30,,",  # 11
        f"110,ok2,火灾,2025/3/2 9:15,{lon},{lat}",  # 12: good (Chinese type, slashes)
        f"110,ok3,Police Call,2025年3月3日 10:00,{lon},{lat}",  # 13: good (English name)
    ]
    report = import_records(
        grid, db_settings, _csv(tmp_path / "broken.csv", lines), kind="incidents"
    )
    assert report.inserted == 3
    got = {p.row or 0: p.reason for p in report.rejected}
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert got[3] == "lon 'abc' is not a number"
    assert "missing columns" in got[4]
    assert got[5].startswith("lat/lon look swapped")
    assert got[6] == "empty line"
    assert got[7] == "lon 'nan' is not a finite number"
    assert got[8] == "lat 'inf' is not a finite number"
    assert got[9].startswith("unknown incident type 'meteor'")
    assert got[10].startswith("occurred_at '2025-13-45 99:00' is not a date/time")
    assert got[11] == "no usable location: no coordinates and no address"
    assert _areas(grid) == {"ok1": "M2", "ok2": "M2", "ok3": "M2"}
    with grid.connect() as conn:
        types = {
            str(r[0]): str(r[1])
            for r in conn.execute(text("SELECT source_id, type FROM incidents"))
        }
        when = conn.execute(
            text(
                "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                "FROM incidents WHERE source_id = 'ok2'"
            )
        ).scalar()
    assert types == {"ok1": "fire", "ok2": "fire", "ok3": "police_call"}
    assert when == "2025-03-02 01:15"  # 09:15 China Standard Time


def test_gbk_csv_with_chinese_headers(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    lon, lat = _wgs84(50, 150)
    lines = [
        "来源,编号,类型,发生时间,经度,纬度,描述,网格员",
        f"三零平台,SL-001,矛盾纠纷,2025-05-01 14:00,{lon},{lat},邻里噪音纠纷,张三",
        f"一码解纠纷,YM-002,盗窃,2025-05-02 20:00,{lon},{lat},电动车被盗,李四",
    ]
    path = _csv(tmp_path / "gbk.csv", lines, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    report = import_records(grid, db_settings, path, kind="incidents")
    assert report.rejected == []
    with grid.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source, source_id, type, description, area_code, props->>'网格员' "
                "FROM incidents ORDER BY source_id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("三零平台", "SL-001", "dispute", "邻里噪音纠纷", "M3", "张三"),
        ("一码解纠纷", "YM-002", "theft", "电动车被盗", "M3", "李四"),
    ]


def test_gcj02_and_bd09_land_where_their_wgs84_originals_do(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # 5 m from the M1/M2 edge: a 100-700 m obfuscation left in place would move it far away.
    lon, lat = _wgs84(105, 50)
    glon, glat = gcj02_from_wgs84(lon, lat)
    blon, blat = bd09_from_wgs84(lon, lat)
    assert abs(glon - lon) + abs(glat - lat) > 1e-3  # the offset is real (hundreds of metres)
    for crs, (x, y) in (("gcj02", (glon, glat)), ("bd09", (blon, blat))):
        path = _csv(
            tmp_path / f"{crs}.csv",
            ["source,source_id,type,occurred_at,lon,lat", f"amap,{crs},fire,2025-03-01,{x},{y}"],
        )
        import_records(grid, db_settings, path, kind="incidents", crs=crs)
    assert _areas(grid) == {"bd09": "M2", "gcj02": "M2"}
    with grid.connect() as conn:
        err = conn.execute(
            text(
                "SELECT max(ST_Distance(geom, ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), "
                "4326), 4547))) FROM incidents"
            ),
            {"x": lon, "y": lat},
        ).scalar_one()
    assert err < 0.01  # metres: the inverses are good to well under a centimetre


def test_duplicate_updates_and_reimport_changes_nothing(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    lon, lat = _wgs84(150, 150)
    header = "source,source_id,type,occurred_at,lon,lat,description"
    first = _csv(tmp_path / "a.csv", [header, f"12345,H1,noise,2025-06-01 22:00,{lon},{lat},吵"])
    assert import_records(grid, db_settings, first, kind="incidents").inserted == 1
    with grid.connect() as conn:
        stamp = conn.execute(text("SELECT updated_at FROM incidents")).scalar()
    again = import_records(grid, db_settings, first, kind="incidents")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    lon2, lat2 = _wgs84(50, 50)
    changed = _csv(
        tmp_path / "b.csv", [header, f"12345,H1,noise,2025-06-01 22:00,{lon2},{lat2},很吵"]
    )
    report = import_records(grid, db_settings, changed, kind="incidents")
    assert (report.inserted, report.updated) == (0, 1)
    with grid.connect() as conn:
        rows = conn.execute(text("SELECT area_code, description, updated_at FROM incidents")).all()
    assert len(rows) == 1
    assert rows[0][:2] == ("M1", "很吵")
    assert rows[0][2] > stamp
    # Two rows with the same id in one file: the later wins, the earlier is a warning.
    both = _csv(
        tmp_path / "c.csv",
        [
            header,
            f"12345,H2,noise,2025-06-02,{lon},{lat},x",
            f"12345,H2,noise,2025-06-02,{lon2},{lat2},y",
        ],
    )
    report = import_records(grid, db_settings, both, kind="incidents")
    assert report.inserted == 1
    assert [w.row for w in report.warnings] == [2]
    assert _areas(grid) == {"H1": "M1", "H2": "M1"}


@pytest.mark.parametrize("pool", ["two connections", "one connection"])
def test_counts_and_places_across_batches(
    grid: Engine, db_settings: Settings, tmp_path: Path, pool: str
) -> None:
    """Each batch's rows are counted by the ids they take (records_last_id.sql): a key an earlier
    batch of the same file wrote is updated, not inserted again, and a row seen again unchanged
    is unchanged. The points are placed on a second connection while the import writes, or on
    the import's own when the pool has no second one to give."""
    settings = db_settings.replace(import_batch_rows=2)
    engine = grid
    if pool == "one connection":
        settings = settings.replace(pool_size=1, pool_max_overflow=0, pool_timeout_s=0.2)
        engine = make_engine(settings.db)
    header = "source,source_id,type,occurred_at,lon,lat,description"

    def line(ident: str, dx: float, dy: float, words: str) -> str:
        lon, lat = _wgs84(dx, dy)
        return f"110,{ident},fire,2025-03-01 08:30,{lon},{lat},{words}"

    # Batches of two rows: [A, B], [A moved and reworded, C], [B again, D outside].
    path = _csv(
        tmp_path / "batches.csv",
        [
            header,
            line("A", 50, 50, "一"),
            line("B", 150, 50, "二"),
            line("A", 50, 150, "三"),
            line("C", 150, 150, "四"),
            line("B", 150, 50, "二"),
            line("D", 350, 50, "五"),
        ],
    )
    try:
        report = import_records(engine, settings, path, kind="incidents")
        assert (report.inserted, report.updated, report.unchanged) == (4, 1, 1)
        assert [p.row for p in report.warnings] == [7]  # D, outside every area
        assert _areas(grid) == {"A": "M3", "B": "M2", "C": "M4", "D": None}
        again = import_records(engine, settings, path, kind="incidents")
        # The file again: A's first row updates A back, its second row updates it again; B
        # and C are as stored, and so is D.
        assert (again.inserted, again.updated, again.unchanged) == (0, 2, 4)
        assert _areas(grid) == {"A": "M3", "B": "M2", "C": "M4", "D": None}
    finally:
        if engine is not grid:
            engine.dispose()


def test_address_only_rows_are_geocoded(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    lines = [
        "source,source_id,type,occurred_at,address",
        "patrol,A1,dispute,2025-07-01 10:00,未来路１２３号附近",  # full-width digits, 附近
        "patrol,A2,dispute,2025-07-01 10:00,锦绣小区五栋",  # Chinese numeral, 栋
        "patrol,A3,dispute,2025-07-01 10:00,未来路999号",  # no such door
    ]
    report = import_records(grid, db_settings, _csv(tmp_path / "addr.csv", lines), kind="incidents")
    assert report.inserted == 2
    assert [p.row for p in report.rejected] == [4]
    assert "not found" in report.rejected[0].reason
    assert "999" in report.rejected[0].reason
    with grid.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_id, area_code, located_by, geocode_score, source_crs "
                "FROM incidents ORDER BY source_id"
            )
        ).all()
    assert [r[:3] for r in rows] == [("A1", "M2", "address"), ("A2", "M4", "address")]
    assert all((r[3] or 0) >= 80 for r in rows)
    assert all(r[4] is None for r in rows)


def test_reassignment_after_boundary_change(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    lon, lat = _wgs84(90, 50)  # in M1, 10 m from M2
    path = _csv(
        tmp_path / "r.csv",
        ["source,source_id,type,occurred_at,lon,lat", f"110,R1,fire,2025-03-01,{lon},{lat}"],
    )
    import_records(grid, db_settings, path, kind="incidents")
    assert _areas(grid) == {"R1": "M1"}
    # A patrol fix and a grid head's check-in at the same place, stored as in M1.
    with grid.begin() as conn:
        ensure_partitions(conn, [dt.datetime(2025, 3, 1, tzinfo=dt.UTC)])
        for table, cols, values in (
            ("fixes", "unit, unit_kind, t", "'U1', 'foot', '2025-03-01 10:00+08'"),
            ("checkins", "person, t", "'张三', '2025-03-01 10:00+08'"),
        ):
            conn.execute(
                text(
                    f"INSERT INTO {table} (region, {cols}, geom, area_code) VALUES "
                    f"(:r, {values}, ST_Transform(ST_SetSRID(ST_Point(:x, :y), 4326), 4547), 'M1')"
                ),
                {"r": db_settings.region, "x": lon, "y": lat},
            )
    # Move the M1/M2 edge 20 m west: the point is now in M2.
    with grid.begin() as conn:
        conn.execute(
            text("UPDATE areas SET geom = ST_GeomFromText(:w, 4547) WHERE code = :c"),
            [{"c": "M1", "w": _box(0, 0, 80, 100)}, {"c": "M2", "w": _box(80, 0, 120, 100)}],
        )
    moved = relocate(grid, db_settings)
    assert (moved.incidents, moved.hazards, moved.fixes, moved.checkins) == (1, 0, 1, 1)
    assert _areas(grid) == {"R1": "M2"}
    with grid.connect() as conn:
        for table in ("fixes", "checkins"):
            assert conn.execute(text(f"SELECT area_code FROM {table}")).scalar_one() == "M2"
    again = relocate(grid, db_settings)
    assert (again.incidents, again.fixes, again.checkins) == (0, 0, 0)  # nothing else to move


def test_xlsx_import(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    lon, lat = _wgs84(150, 50)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "来源", "类型", "发生时间", "经度", "纬度"])
    sheet.append([1001, "区数字化平台", "fire", dt.datetime(2025, 8, 1, 9, 0), lon, lat])
    sheet.append([None, None, None, None, None, None])
    sheet.append([1002, "区数字化平台", "火灾", "2025-08-02 09:00", lat, lon])
    path = tmp_path / "records.xlsx"
    book.save(path)
    report = import_records(grid, db_settings, path, kind="incidents")
    assert report.inserted == 1
    assert {p.row: p.reason[:12] for p in report.rejected} == {3: "empty row", 4: "lat/lon look"}
    assert _areas(grid) == {"1001": "M2"}


# Hazards and incidents of the vector-file tests, with English headers that a Shapefile cuts
# to 10 bytes (occurred_at -> occurred_a, identified_at -> identified, description -> descriptio).
VECTOR_INCIDENTS = [
    ("V1", "fire", (150, 50), "M2"),
    ("V2", "盗窃", (50, 150), "M3"),
    ("V3", "dispute", (100, 50), "M1"),  # on the M1/M2 edge: the smallest code
]
VECTOR_HAZARDS = [("VH1", (150, 150), "M4"), ("VH2", (30, 30), "M1")]


def _write_vector(path: Path, rows: list[dict[str, object]]) -> Path:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    with warnings.catch_warnings():
        # Writing a Shapefile warns that it cuts the long names: the cut is what is tested.
        warnings.simplefilter("ignore")
        frame.to_file(path, engine="pyogrio")
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_vector_files_with_english_headers(
    grid: Engine, db_settings: Settings, tmp_path: Path, suffix: str
) -> None:
    incidents = _write_vector(
        tmp_path / f"inc{suffix}",
        [
            {
                "source": "110",
                "source_id": ident,
                "type": kind,
                "occurred_at": "2025-03-01 08:30",
                "reported_at": "2025-03-01 08:45",
                "description": f"描述 {ident}",
                "geometry": Point(_wgs84(*where)),
            }
            for ident, kind, where, _ in VECTOR_INCIDENTS
        ],
    )
    hazards = _write_vector(
        tmp_path / f"haz{suffix}",
        [
            {
                "source": "inspect",
                "source_id": ident,
                "category": "消防",
                "description": "通道堵塞",
                "method": "LEC",
                "l": 6,
                "e": 6,
                "c": 15,
                "identified_at": "2025-04-01",
                "geometry": Point(_wgs84(*where)),
            }
            for ident, where, _ in VECTOR_HAZARDS
        ],
    )
    fields = set(pyogrio.read_info(incidents)["fields"])
    if suffix == ".shp":
        assert {"occurred_a", "reported_a", "descriptio"} <= fields
        assert "identified" in set(pyogrio.read_info(hazards)["fields"])
    for path, kind, count in ((incidents, "incidents", 3), (hazards, "hazards", 2)):
        report = import_records(grid, db_settings, path, kind=kind)
        assert report.rejected == []
        assert report.inserted == count
    assert _areas(grid) == {ident: code for ident, _, _, code in VECTOR_INCIDENTS}
    assert _areas(grid, "hazards") == {ident: code for ident, _, code in VECTOR_HAZARDS}
    with grid.connect() as conn:
        row = conn.execute(
            text(
                "SELECT description, props, "
                "to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') "
                "FROM incidents WHERE source_id = 'V1'"
            )
        ).one()
        found = conn.execute(
            text("SELECT (identified_at AT TIME ZONE 'Asia/Shanghai')::date::text FROM hazards")
        ).scalars()
    assert tuple(row) == ("描述 V1", {}, "08:45")  # every column read, none left as a prop
    assert set(found) == {"2025-04-01"}


@pytest.mark.parametrize(
    ("kind", "header", "missing"),
    [
        ("incidents", "source,source_id,type,lon,lat", "occurred_at (a column named occurred_at"),
        ("incidents", "source,source_id,occurred_at,type", "a location (lon and lat"),
        ("hazards", "source_id,name,identified_at,method,l,s,lon,lat", "category (a column"),
    ],
)
def test_a_missing_required_column_is_one_error_for_the_file(
    grid: Engine, db_settings: Settings, tmp_path: Path, kind: str, header: str, missing: str
) -> None:
    lon, lat = _wgs84(150, 50)
    cells = {"lon": str(lon), "lat": str(lat), "type": "fire", "method": "LS", "l": "2", "s": "2"}
    row = ",".join(cells.get(h, "2025-03-01") for h in header.split(","))
    path = _csv(tmp_path / "m.csv", [header, row, row.replace("2025-03-01", "2025-03-02")])
    with pytest.raises(InputError) as refused:
        import_records(grid, db_settings, path, kind=kind)
    message = str(refused.value)
    assert message.startswith(f"m.csv: no column for {missing}")
    assert message.endswith(f"The file's fields: {header.replace(',', ', ')}")
    assert _areas(grid, kind) == {}


def test_a_shapefile_missing_its_time_column_names_the_fields(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    path = _write_vector(
        tmp_path / "inc.shp",
        [{"source_id": "S1", "type": "fire", "happened": "2025-03-01", "geometry": Point(0, 0)}],
    )
    with pytest.raises(InputError, match=r"no column for occurred_at .*fields: source_id, type"):
        import_records(grid, db_settings, path, kind="incidents")


def test_shapefile_chinese_headers_gbk_cut_and_utf8_refused(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # GBK (ArcGIS on Chinese Windows) keeps five characters: 整改完成时间 becomes 整改完成时.
    rows = [
        {
            "隐患编号": "G1",
            "隐患类别": "燃气",
            "评价方法": "LS",
            "可能性": 3,
            "严重性": 3,
            "发现时间": "2025-04-01",
            "整改完成时间": "2025-05-01",
            "geometry": Point(_wgs84(150, 150)),
        }
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cut names, as above
        frame.to_file(tmp_path / "gbk.shp", engine="pyogrio", encoding="GBK")
        frame.to_file(tmp_path / "utf8.shp", engine="pyogrio")
    assert "整改完成时" in set(pyogrio.read_info(tmp_path / "gbk.shp")["fields"])
    report = import_records(grid, db_settings, tmp_path / "gbk.shp", kind="hazards")
    assert report.rejected == []
    with grid.connect() as conn:
        got = conn.execute(text("SELECT source_id, area_code, status FROM hazards")).one()
    assert tuple(got) == ("G1", "M4", "closed")  # closed: 整改完成时 was read as closed_at
    # UTF-8 keeps 10 bytes: three characters and a third of one, which nothing can read back.
    with pytest.raises(InputError, match=r"a field name is not valid text .* GBK"):
        import_records(grid, db_settings, tmp_path / "utf8.shp", kind="hazards")


def test_cgcs2000_lands_with_its_wgs84_twin(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # CGCS2000 and WGS84 agree to centimetres: the same numbers are the same places, also 2 m
    # from an edge and on the M1/M2 edge itself (the smallest code). Each file's ids are its
    # own: the same ids and content under another source would be refused as a re-export.
    spots = {"in": (150, 50), "near": (98, 150), "edge": (100, 50), "top": (102, 198)}
    lines = ["source,source_id,type,occurred_at,lon,lat"]
    for crs in ("wgs84", "cgcs2000"):
        lines += [
            f"{crs},{crs}-{k},fire,2025-03-01,{lon!r},{lat!r}"
            for k, (lon, lat) in ((k, _wgs84(*xy)) for k, xy in spots.items())
        ]
    wgs84 = _csv(tmp_path / "wgs84.csv", [lines[0], *lines[1:5]])
    cgcs2000 = _csv(tmp_path / "cgcs2000.csv", [lines[0], *lines[5:]])
    assert import_records(grid, db_settings, wgs84, kind="incidents").rejected == []
    report = import_records(grid, db_settings, cgcs2000, kind="incidents", crs="EPSG:4490")
    assert (report.crs, report.rejected, report.inserted) == ("EPSG:4490", [], 4)
    with grid.connect() as conn:
        rows = conn.execute(
            text("SELECT source, source_id, area_code, ST_X(geom), ST_Y(geom) FROM incidents")
        ).all()
    placed = {(r[0], r[1].split("-", 1)[1]): (r[2], r[3], r[4]) for r in rows}
    assert {k: placed[("wgs84", k)][0] for k in spots} == {
        "in": "M2", "near": "M3", "edge": "M1", "top": "M4"
    }  # fmt: skip
    for k in spots:
        code, x, y = placed[("cgcs2000", k)]
        twin = placed[("wgs84", k)]
        assert code == twin[0]
        assert abs(x - twin[1]) < 0.05
        assert abs(y - twin[2]) < 0.05


def test_gcj02_outside_china_is_left_unshifted_and_kept_outside(
    grid: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # Helsinki: outside China's box GCJ-02 is WGS84 itself (the standard rule), so no inverse is
    # applied; the point lies in no area of the district and is kept, reported, listed.
    helsinki = {"HEL1": (24.9384, 60.1699), "HEL2": (24.9525, 60.1618)}
    lines = ["source,source_id,type,occurred_at,lon,lat"] + [
        f"amap,{k},fire,2025-03-01,{lon},{lat}" for k, (lon, lat) in helsinki.items()
    ]
    report = import_records(
        grid, db_settings, _csv(tmp_path / "hel.csv", lines), kind="incidents", crs="gcj02"
    )
    assert (report.crs, report.rejected, report.inserted) == ("gcj02", [], 2)
    assert [(w.row, w.ident, w.reason) for w in report.warnings] == [
        (2, "HEL1", "outside every area: kept with no area"),
        (3, "HEL2", "outside every area: kept with no area"),
    ]
    assert _areas(grid) == {"HEL1": None, "HEL2": None}
    outside = json.loads(list_records(grid, db_settings, kind="incidents", outside=True))
    assert sorted(f["properties"]["source_id"] for f in outside["features"]) == ["HEL1", "HEL2"]
    with grid.connect() as conn:
        stored = {
            str(r[0]): (float(r[1]), float(r[2]))
            for r in conn.execute(text("SELECT source_id, ST_X(geom), ST_Y(geom) FROM incidents"))
        }
    for k, (lon, lat) in helsinki.items():
        x, y = to_target(lon, lat, parse_crs("EPSG:4326"), db_settings.srid)
        assert stored[k] == pytest.approx((float(x), float(y)), abs=1e-6)  # unshifted


def test_hazards_assessment_validated(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    lon, lat = _wgs84(150, 150)
    head = "source,source_id,category,name,method,l,e,c,s,status,identified_at,closed_at,lon,lat"
    lines = [
        head,
        f"inspect,Z1,消防,堵塞通道,LEC,6,6,15,,open,2025-04-01,,{lon},{lat}",
        f"inspect,Z2,燃气,软管老化,LS,4,,,4,已整改,2025-04-01,2025-05-01,{lon},{lat}",
        f"inspect,Z3,消防,灭火器过期,LEC,7,6,15,,open,2025-04-01,,{lon},{lat}",
        f"inspect,Z4,消防,x,LS,6,,,2,open,2025-04-01,,{lon},{lat}",
        f"inspect,Z5,消防,x,LEC,1,1,1,,closed,2025-04-01,,{lon},{lat}",
    ]
    report = import_records(grid, db_settings, _csv(tmp_path / "h.csv", lines), kind="hazards")
    assert report.inserted == 2
    got = {p.ident: p.reason for p in report.rejected}
    assert got == {
        "Z3": "LEC L = 7 is not on the scale; allowed: {10, 6, 3, 1, 0.5, 0.2, 0.1}",
        "Z4": "LS L = 6 is not on the scale; allowed: {1, 2, 3, 4, 5}",
        "Z5": "a closed hazard needs closed_at",
    }
    hazards = json.loads(list_records(grid, db_settings, kind="hazards", status="open"))
    assert hazards["total"] == 1
    props = hazards["features"][0]["properties"]
    assert (props["score"], props["colour"], props["area_code"]) == (540, "red", "M4")
    closed = json.loads(list_records(grid, db_settings, kind="hazards", status="closed"))
    # R = 4 x 4 = 16: orange (15 <= R < 20).
    assert closed["features"][0]["properties"]["colour"] == "orange"
    assert closed["features"][0]["properties"]["score"] == 16


def test_api_post_and_get(grid: Engine, db_settings: Settings) -> None:
    lon, lat = _wgs84(150, 50)
    glon, glat = gcj02_from_wgs84(lon, lat)
    out_lon, out_lat = _wgs84(300, 50)
    with api_client(db_settings) as client:
        one = client.post(
            "/api/incidents",
            json={
                "source": "110",
                "source_id": "P1",
                "type": "fire",
                "occurred_at": "2025-03-01T08:00:00+08:00",
                "lon": lon,
                "lat": lat,
            },
        )
        assert one.status_code == 200
        assert one.json()["records"][0]["area_code"] == "M2"
        many = client.post(
            "/api/incidents",
            json=[
                {
                    "source": "amap",
                    "source_id": "P2",
                    "type": "盗窃",
                    "occurred_at": "2025-04-01",
                    "lon": float(glon),
                    "lat": float(glat),
                    "crs": "gcj02",
                },
                {
                    "source": "110",
                    "source_id": "P3",
                    "type": "fire",
                    "occurred_at": "2025-05-01",
                    "lon": out_lon,
                    "lat": out_lat,
                },
                {"source": "110", "source_id": "P4", "type": "fire", "occurred_at": "2025-05-01"},
                {
                    "source": "110",
                    "source_id": "P5",
                    "type": "fire",
                    "occurred_at": "2025-05-01",
                    "address": "锦绣小区5号楼",
                },
            ],
        ).json()
        records = many["records"]
        assert [r["area_code"] for r in records] == ["M2", None, None, "M4"]
        assert records[1]["rejected"] is None
        assert records[2]["rejected"].startswith("no usable")
        assert records[3]["area_path"] == ["S", "G", "T", "M4"]

        page = client.get("/api/incidents", params={"area": "G", "limit": 2}).json()
        assert page["total"] == 3
        assert len(page["features"]) == 2
        assert page["features"][0]["properties"]["ancestors"] == ["S", "G", "T"]
        typed = client.get("/api/incidents", params={"type": "theft"}).json()
        assert [f["properties"]["source_id"] for f in typed["features"]] == ["P2"]
        m2 = client.get(
            "/api/incidents", params={"area": "M2", "from": "2025-03-15", "to": "2025-12-31"}
        ).json()
        assert [f["properties"]["source_id"] for f in m2["features"]] == ["P2"]
        point = m2["features"][0]["geometry"]["coordinates"]
        assert np.allclose(point, [lon, lat], atol=1e-7)  # back in WGS84
        outside = client.get("/api/incidents", params={"outside": "true"}).json()
        assert [f["properties"]["source_id"] for f in outside["features"]] == ["P3"]
        assert client.get("/api/incidents", params={"area": "NOPE"}).status_code == 404
        hazard = client.post(
            "/api/hazards",
            json={
                "source": "inspect",
                "source_id": "HZ",
                "category": "消防",
                "name": "通道",
                "method": "LEC",
                "l": 7,
                "e": 6,
                "c": 15,
                "identified_at": "2025-04-01",
                "lon": lon,
                "lat": lat,
            },
        ).json()
        assert "LEC L = 7" in hazard["records"][0]["rejected"]


def test_types_can_be_added(grid: Engine, db_settings: Settings, tmp_path: Path) -> None:
    assert add_incident_type(grid, code="ebike_theft", name_zh="电动车盗窃", name_en="e-bike theft")
    lon, lat = _wgs84(150, 50)
    path = _csv(
        tmp_path / "t.csv",
        ["source,source_id,type,occurred_at,lon,lat", f"110,E1,电动车盗窃,2025-03-01,{lon},{lat}"],
    )
    try:
        assert import_records(grid, db_settings, path, kind="incidents").inserted == 1
        with grid.connect() as conn:
            assert conn.execute(text("SELECT type FROM incidents")).scalar() == "ebike_theft"
    finally:
        with grid.begin() as conn:
            conn.execute(text("DELETE FROM incidents"))
            conn.execute(text("DELETE FROM incident_types WHERE code = 'ebike_theft'"))
