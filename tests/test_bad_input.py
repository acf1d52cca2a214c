"""Bad input: the corpus of broken files in tests/data/bad, bodies over their limit, NUL
characters, formulas in names that reach exports, and markup in names that reach the pages.

Each corpus file goes through the real importer and through its HTTP endpoint, and must give
its own clear error (the expected message fragments are below, one per file); nothing of a
refused boundary file may be written. The district for the pages is test_maps' hand-made one
with its names replaced by markup.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo.boundaries import import_boundaries
from geo.errors import CRSError, ImportRejectedError, InputError
from geo.intake import MAX_UNZIPPED_BYTES
from geo.levels import Level
from geo.records import import_records
from geo.risk import run_risk
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes
from geo.settings import Settings
from tests.browser import Tab, hover, hover_area, marker_points, serve, sign_in
from tests.clients import api_client
from tests.test_maps import AS_OF, build_district
from tests.test_routes_page import _plan, _xy

BAD = Path(__file__).parent / "data" / "bad"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# Markup that runs where a name reaches innerHTML (a <script> put there does not run).
XSS_IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'

# file → (error class, HTTP status of the upload, fragment of the message)
BOUNDARY_CORPUS: dict[str, tuple[type[Exception], int, str]] = {
    "truncated.geojson": (InputError, 400, "cannot be read as a vector layer"),
    "points_as_boundaries.geojson": (
        ImportRejectedError,
        422,
        "geometry is a Point; an area needs a Polygon or MultiPolygon",
    ),
    "nan_boundary.geojson": (ImportRejectedError, 422, "NaN or infinite coordinates"),
    "inf_boundary.geojson": (ImportRejectedError, 422, "NaN or infinite coordinates"),
    "swapped_boundary.geojson": (CRSError, 400, "do not fit EPSG:4326"),
    "wgs84_labelled_4547.geojson": (CRSError, 400, "do not fit EPSG:4547"),
    "no_crs_metric.geojson": (CRSError, 400, "do not fit EPSG:4326"),
    "bowtie_boundary.geojson": (
        ImportRejectedError,
        422,
        "invalid geometry (Self-intersection",
    ),
    "no_features.geojson": (ImportRejectedError, 422, "the file holds no features"),
    "not_a_zip.zip": (InputError, 400, "not a readable zip archive"),
}


def _message(exc: BaseException) -> str:
    if isinstance(exc, ImportRejectedError):
        return "; ".join(p.reason for p in exc.problems)
    return str(exc)


def _upload_message(body: dict[str, object]) -> str:
    problems = body.get("problems")
    if isinstance(problems, list):
        return "; ".join(str(p["reason"]) for p in problems)
    return str(body["detail"])


def _area_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM areas")).scalar_one())


@pytest.mark.parametrize("name", sorted(BOUNDARY_CORPUS))
def test_boundary_corpus_through_the_importer(db: Engine, db_settings: Settings, name: str) -> None:
    error, _status, fragment = BOUNDARY_CORPUS[name]
    with pytest.raises(error) as caught:
        import_boundaries(db, db_settings, BAD / name, level=Level.SUBDISTRICT)
    assert fragment in _message(caught.value)
    assert _area_count(db) == 0


@pytest.mark.parametrize("name", sorted(BOUNDARY_CORPUS))
def test_boundary_corpus_through_the_upload(db: Engine, db_settings: Settings, name: str) -> None:
    _error, status, fragment = BOUNDARY_CORPUS[name]
    with api_client(db_settings) as client:
        r = client.post(
            "/api/admin/boundaries",
            files={"file": (name, (BAD / name).read_bytes())},
            data={"level": "subdistrict"},
        )
    assert r.status_code == status, r.text
    assert fragment in _upload_message(r.json())
    assert _area_count(db) == 0


def _zip_bomb(path: Path, declared: int) -> None:
    """A zipped Shapefile whose central directory declares ``declared`` unpacked bytes.

    The archive is a few hundred bytes; only the declared size is large, which is what a
    reader must refuse on before unpacking anything (APPNOTE 4.3.12: the uncompressed size
    is the 4 bytes at offset 24 of each central directory header).
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.shp", b"\0" * 1000)
        zf.writestr("bomb.dbf", b"\0" * 10)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")  # the first central directory header: bomb.shp
    data[at + 24 : at + 28] = struct.pack("<I", declared)
    path.write_bytes(bytes(data))


def test_zip_bomb_is_refused_before_unpacking(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.zip"
    _zip_bomb(bomb, 0xFFFF_FFF0)
    assert bomb.stat().st_size < 1000
    with pytest.raises(InputError, match=f"over the limit of {MAX_UNZIPPED_BYTES}"):
        import_boundaries(db, db_settings, bomb, level=Level.SUBDISTRICT)
    with api_client(db_settings) as client:
        r = client.post(
            "/api/admin/boundaries",
            files={"file": ("bomb.zip", bomb.read_bytes())},
            data={"level": "subdistrict"},
        )
    assert r.status_code == 400
    assert f"unpacks to {0xFFFF_FFF0 + 10} bytes" in r.json()["detail"]  # .shp + .dbf
    assert _area_count(db) == 0


def test_incident_rows_each_get_their_reason(db: Engine, db_settings: Settings) -> None:
    report = import_records(db, db_settings, BAD / "incidents_bad_rows.csv", kind="incidents")
    reasons = {p.row: p.reason for p in report.rejected}
    assert reasons == {
        3: "lon 'NaN' is not a finite number",
        4: "lat 'inf' is not a finite number",
        5: (
            "lat/lon look swapped (lon=34.772, lat=113.684): the other way round it is a point "
            "in China; fix the columns"
        ),
        6: "empty line",
        7: "lat is empty but lon is given",
        8: "unknown incident type 'no-such-type' (add it with `gridsafe types add`)",
        9: "occurred_at 'yesterday-ish' is not a date/time (use e.g. 2025-03-01 08:30)",
    }
    # Rows 2 and 10 load (10 carries formulas, stored as given: exports guard them).
    assert report.loaded == 2
    with db.connect() as conn:
        ids = conn.execute(text("SELECT source_id FROM incidents ORDER BY source_id")).scalars()
        assert list(ids) == ["=1+1", "ok-1"]


@pytest.mark.parametrize(
    ("name", "loaded", "reasons"),
    [
        ("polygons_as_incidents.geojson", 1, {1: "geometry is a Polygon, not a Point"}),
        ("nan_point_incidents.geojson", 0, {1: "point has NaN or infinite coordinates"}),
        (
            "incidents_wgs84_labelled_4547.geojson",
            0,
            {
                1: (
                    "x/y (113.684, 34.772) do not fit EPSG:4547 (area of use lon 112.5..115.5, "
                    "lat 21.52..45.45); wrong --crs?"
                )
            },
        ),
    ],
)
def test_incident_vector_files(
    db: Engine, db_settings: Settings, name: str, loaded: int, reasons: dict[int, str]
) -> None:
    report = import_records(db, db_settings, BAD / name, kind="incidents")
    assert {p.row: p.reason for p in report.rejected} == reasons
    assert report.loaded == loaded


def test_truncated_incident_file_is_an_input_error(db: Engine, db_settings: Settings) -> None:
    with pytest.raises(InputError, match="cannot be read as a vector layer"):
        import_records(db, db_settings, BAD / "truncated_incidents.geojson", kind="incidents")


def test_records_post_refuses_nan_inf_and_swapped_per_record(
    db: Engine, db_settings: Settings
) -> None:
    base = '"source":"api","type":"fire","occurred_at":"2025-03-01 08:30"'
    body = (
        f'[{{{base},"source_id":"a","lon":NaN,"lat":34.772}},'
        f'{{{base},"source_id":"b","lon":113.684,"lat":-Infinity}},'
        f'{{{base},"source_id":"c","lon":34.772,"lat":113.684}},'
        f'{{{base},"source_id":"d","lon":113.684,"lat":34.772}}]'
    )
    with api_client(db_settings) as client:
        r = client.post(
            "/api/incidents", content=body, headers={"content-type": "application/json"}
        )
    assert r.status_code == 200, r.text
    out = r.json()
    assert {p["row"]: p["reason"] for p in out["rejected"]} == {
        1: "lon 'nan' is not a finite number",
        2: "lat '-inf' is not a finite number",
        3: (
            "lat/lon look swapped (lon=34.772, lat=113.684): the other way round it is a point "
            "in China; fix the columns"
        ),
    }
    assert out["loaded"] == 1


# ------------------------------------------------------------------ limits and NUL characters


def test_json_body_over_the_limit_is_413(db: Engine, db_settings: Settings) -> None:
    settings = db_settings.replace(max_body_bytes=10_000)
    record = {
        "source": "api",
        "type": "fire",
        "lon": 113.684,
        "lat": 34.772,
        "occurred_at": "2025-03-01 08:30",
    }
    big = [{**record, "source_id": f"r{n}"} for n in range(200)]  # ~22 kB
    with api_client(settings) as client:
        r = client.post("/api/incidents", json=big)
        assert r.status_code == 413
        assert r.json()["detail"] == (
            "request body over the limit of 10000 bytes (GRIDSAFE_MAX_BODY_BYTES); "
            "send fewer records per request or import the file instead"
        )
        # Every JSON endpoint has the limit, streamed or not.
        chunks = (json.dumps(big).encode()[i : i + 4096] for i in range(0, 20_000, 4096))
        r = client.post("/api/routes", content=chunks, headers={"content-type": "application/json"})
        assert r.status_code == 413
        # Under the limit the same endpoint answers per record.
        ok = client.post("/api/incidents", json=big[:50])
        assert ok.status_code == 200
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 50


def test_upload_over_the_limit_is_413_and_writes_nothing(db: Engine, db_settings: Settings) -> None:
    settings = db_settings.replace(max_upload_bytes=2000, max_body_bytes=500)
    payload = b'{"type": "FeatureCollection", "features": []}' + b" " * 3000
    with api_client(settings) as client:
        # The file is over max_upload_bytes but its multipart body is within the router's
        # allowance: the upload's own check answers.
        r = client.post(
            "/api/admin/boundaries",
            files={"file": ("big.geojson", payload)},
            data={"level": "subdistrict"},
        )
        assert r.status_code == 413
        assert r.json()["detail"] == "big.geojson: upload over the limit of 2000 bytes"
        # A file under max_upload_bytes is not held to the smaller JSON limit.
        small = (BAD / "no_features.geojson").read_bytes()
        r = client.post(
            "/api/admin/boundaries",
            files={"file": ("small.geojson", small + b" " * 1000)},
            data={"level": "subdistrict"},
        )
        assert r.status_code == 422
    assert _area_count(db) == 0


def test_declared_length_over_the_limit_is_refused_unread(db_settings: Settings) -> None:
    settings = db_settings.replace(max_upload_bytes=1000)
    with api_client(settings) as client:
        r = client.post(
            "/api/admin/boundaries",
            content=b"x" * 10,
            headers={
                "content-type": "multipart/form-data; boundary=b",
                "content-length": str(100 * 1024 * 1024),
            },
        )
    assert r.status_code == 413
    assert "GRIDSAFE_MAX_UPLOAD_BYTES" in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "where"),
    [
        ("get", "/api/areas/S%00", {}, "the path"),
        ("get", "/api/stats?area=S%00", {}, "the query"),
        ("get", "/maps/risk?focus=%00", {}, "the query"),
        ("post", "/api/cases", {"json": {"incident_id": 1, "actor": "a\x00"}}, "the JSON body"),
    ],
)
def test_nul_characters_are_a_400(
    db_settings: Settings, method: str, url: str, kwargs: dict[str, object], where: str
) -> None:
    with api_client(db_settings) as client:
        r = getattr(client, method)(url, **kwargs)
    assert r.status_code == 400
    assert r.json()["detail"].startswith(f"{where} contains a NUL character")


def test_escaped_backslash_before_u0000_is_not_a_nul(db_settings: Settings) -> None:
    # The JSON text \\u0000 is a backslash followed by "u0000": legitimate, not a NUL.
    body = '{"incident_id": 1, "actor": "a\\\\u0000"}'
    with api_client(db_settings) as client:
        r = client.post("/api/cases", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 404  # no incident 1: the body got through


# ------------------------------------------------------------- names in pages and exports


@pytest.fixture(scope="module")
def marked_up(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings, int]:
    """The hand-made district with markup and formulas in its names, a case and a route plan."""
    engine, settings = make_db("bad_names")
    build_district(engine, settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE areas SET name = :n WHERE code IN ('S', 'S-0-0', 'M00')"),
                     {"n": XSS})  # fmt: skip
        conn.execute(text("UPDATE hazards SET name = :n"), {"n": XSS})
        conn.execute(text("UPDATE areas SET name = :n WHERE code = 'M01'"), {"n": XSS_IMG})
    day = AS_OF + timedelta(days=1)
    run_risk(engine, settings, as_of=datetime(day.year, day.month, day.day, 23, 59,
                                                tzinfo=ZoneInfo("Asia/Shanghai")))  # fmt: skip
    x, y = _xy(0, 0)
    with api_client(settings) as client:
        r = client.post("/api/incidents", json={
            "source": "三零平台", "source_id": "=1+1", "type": "dispute", "x": x, "y": y,
            "crs": "EPSG:4547", "occurred_at": "2025-06-01 09:00",
            "description": XSS})  # fmt: skip
        assert r.json()["loaded"] == 1, r.text
        with engine.connect() as conn:
            incident = conn.execute(text("SELECT id FROM incidents")).scalar_one()
        r = client.post("/api/cases", json={"incident_id": incident, "actor": "@admin"})
        assert r.status_code == 201, r.text
        # A device names its unit with markup: a track, and a single fix (drawn as a point).
        fixes = [{"time": f"{AS_OF + timedelta(days=1)}T10:00:{10 * i:02d}", "x": x + 5 * i,
                  "y": y + 3 * (i % 2)} for i in range(3)]  # fmt: skip
        for unit, batch in ((XSS, fixes), (XSS + "1", fixes[:1])):
            r = client.post("/api/tracks", json={"unit": unit, "kind": "foot",
                                                 "crs": "EPSG:4547", "fixes": batch})  # fmt: skip
            assert r.json()["inserted"] == len(batch), r.text
    _plan(engine, settings)
    plan = plan_routes(engine, settings, PlanRequest(
        units=[UnitInput(XSS, "S1")], shift_start=datetime(2026, 11, 24, 8, 0),
        shift_end=datetime(2026, 11, 24, 9, 0), risk_areas=False, school_gates=False,
        candidates=[CandidateInput(id="X1", kind="red", risk=5.0, lon=_xy(3, 0)[0],
                                   lat=_xy(3, 0)[1], crs="EPSG:4547", label=XSS)],
        time_limit_s=0.3))  # fmt: skip
    return engine, settings, int(plan["id"])


def test_pages_escape_names(marked_up: tuple[Engine, Settings, int]) -> None:
    _engine, settings, plan_id = marked_up
    day = (AS_OF + timedelta(days=1)).isoformat()
    with api_client(settings) as client:
        pages = {
            "dashboard": client.get("/").text,
            "stats": client.get("/stats", params={"from": "2025-01-01", "to": "2025-12-31"}).text,
            "risk": client.get("/maps/risk", params={"level": "micro", "as_of": day}).text,
            "risk-focus": client.get("/maps/risk", params={"focus": "M00", "as_of": day}).text,
            "routes": client.get(f"/maps/routes/{plan_id}").text,
            "coverage": client.get("/maps/coverage", params={"period": "day", "at": day}).text,
        }
    for page, html in pages.items():
        assert "<html" in html.lower(), page
        assert XSS not in html, page  # nowhere can the name close a script and open its own
    for page in ("dashboard", "stats", "routes", "coverage"):
        assert "<script>alert" not in pages[page], page
    # HTML-rendered names appear entity-escaped; the route legend and stop tooltips too.
    assert ESCAPED in pages["stats"]
    assert ESCAPED in pages["routes"]
    # The coverage page: the units in the legend; as tooltip text (set as HTML by folium) the
    # units in the tracks' data and the micro-grid's name in the risk colours' (JSON: & is \u0026).
    assert pages["coverage"].count(ESCAPED) >= 2
    in_json = ESCAPED.replace("&", "\\u0026")
    assert pages["coverage"].count(in_json) >= 3
    # The risk page carries names as JSON inside its script, where "</" is written "<\/" so
    # no name can close the element; the script escapes them again before any innerHTML.
    config = pages["risk"].split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
    names = {f["properties"]["name"] for f in json.loads(config)["areas"]["features"]}
    assert XSS in names
    assert "<script>alert(1)<\\/script>" in pages["risk"]


def test_names_in_map_tooltips_do_not_run(
    marked_up: tuple[Engine, Settings, int], desktop: BrowserContext
) -> None:
    """In Chromium, the mouse over the areas, hazards, tracks and stops named with markup on the
    risk, coverage and route maps: each tooltip shows the markup as text, and it never runs."""
    _engine, settings, plan_id = marked_up
    day = (AS_OF + timedelta(days=1)).isoformat()
    pages = [
        f"/maps/risk?level=micro&as_of={day}",
        f"/maps/coverage?period=day&at={day}",
        f"/maps/routes/{plan_id}",
    ]
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings)
        for page in pages:
            tab.goto(page, timeout=60)
            tips = [hover_area(tab, "M00"), hover_area(tab, "M01")]
            tips += [hover(tab, point) for point in marker_points(tab, XSS)]
            tab.page.wait_for_timeout(1000)  # a failing <img> reports after a turn of the loop
            assert tab.page.evaluate("window.__xss || 0") == 0, page
            assert XSS_IMG in tips[1], (page, tips)
            assert all(XSS in tip for tip in tips[:1] + tips[2:]), (page, tips)


def test_json_keeps_names_verbatim(marked_up: tuple[Engine, Settings, int]) -> None:
    _engine, settings, _plan_id = marked_up
    with api_client(settings) as client:
        areas = client.get("/api/areas", params={"level": "micro"}).json()
        incidents = client.get("/api/incidents").json()
    assert {f["properties"]["name"] for f in areas["features"]} >= {XSS}
    assert incidents["features"][0]["properties"]["description"] == XSS


def test_cases_export_neutralises_formulas(marked_up: tuple[Engine, Settings, int]) -> None:
    _engine, settings, _plan_id = marked_up
    with api_client(settings) as client:
        r = client.get("/api/cases/export", params={"format": "csv", "from": "2025-01-01"})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert cells, rows
    # No cell starts with a formula character; the formulas are there behind an apostrophe.
    assert not [c for c in cells if re.match(r"[=+\-@\t\r]", c)]
    assert "'=1+1" in cells


def test_cases_xlsx_export_holds_no_formula(marked_up: tuple[Engine, Settings, int]) -> None:
    """In the Excel export a name that looks like a formula is a text cell, never a formula
    Excel would evaluate (openpyxl reads formulas as their text starting with '=')."""
    _engine, settings, _plan_id = marked_up
    with api_client(settings) as client:
        r = client.get("/api/cases/export", params={"format": "xlsx", "from": "2025-01-01"})
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = [str(c.value) for c in cells]
    assert not [v for v in values if re.match(r"[=+\-@\t\r]", v)]
    assert "'=1+1" in values


def test_a_url_in_a_name_does_not_break_the_stats_page(
    marked_up: tuple[Engine, Settings, int],
) -> None:
    engine, settings, _plan_id = marked_up
    with engine.begin() as conn:
        conn.execute(text("UPDATE areas SET name = 'http://evil' WHERE code = 'S-1-1'"))
    try:
        with api_client(settings) as client:
            r = client.get("/stats", params={"from": "2025-01-01", "to": "2025-12-31"})
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE areas SET name = '第2-2格' WHERE code = 'S-1-1'"))
    assert r.status_code == 200


def test_far_dates_and_long_periods_are_clear_errors(db: Engine, db_settings: Settings) -> None:
    """Found by fuzzing: a year-1 as-of overflowed a timestamp, a 8,000-year period timed out."""
    with api_client(db_settings) as client:
        risk = client.get("/api/risk", params={"as_of": "0001-01-01"})
        assert risk.status_code == 400
        assert "outside the supported range 1900-01-01 to 2199-12-31" in risk.json()["detail"]
        for path in ("/api/stats", "/stats"):
            r = client.get(path, params={"from": "1901-08-01", "to": "2190-08-20"})
            assert r.status_code == 400
            assert "longer than 3660 days" in r.json()["detail"]
            backwards = client.get(path, params={"from": "2026-02-01", "to": "2026-01-01"})
            assert backwards.status_code == 400
