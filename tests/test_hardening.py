"""Regressions of the second hardening round's probe of the running demo (issue 22): each test
reproduces one finding as the probe made it and checks the answer users expect instead."""

from __future__ import annotations

import codecs
import io
import json
import tempfile
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.params import EARLIEST, LATEST
from geo.access import Role
from geo.errors import InputError
from geo.locate import lock_cells
from geo.records import import_records
from geo.settings import Settings
from tests.clients import api_client, gridsafe
from tests.test_maps import AS_OF, CELL, X0, Y0, build_district

# Every route with a date or instant parameter, asked for a day no layer below can hold; the
# parameter the answer must name is the last item.
OUT_OF_RANGE_DATES = [
    ("/api/cases?to=9999-12-31", "to"),
    ("/api/cases?from=0001-01-01", "from"),
    ("/api/cases/export?to=9999-12-31", "to"),
    ("/api/stats?to=9999-12-31", "to"),
    ("/stats?to=9999-12-31", "to"),
    ("/api/coverage?at=0001-01-01&period=day", "at"),
    ("/api/coverage?period=week&at=9999-12-31", "at"),
    ("/api/coverage?from=0001-01-01&to=9999-12-31", "from"),
    ("/api/gaps?at=0001-01-01", "at"),
    ("/maps/coverage?at=9999-12-31", "at"),
    ("/tiles/areas/0/0/0.mvt?as_of=9999-12-31", "as_of"),
    ("/tiles/hazards/0/0/0.mvt?as_of=9999-12-31", "as_of"),
    ("/tiles/incidents/0/0/0.mvt?to=9999-12-31", "to"),
    ("/maps/data/incidents?to=9999-12-31", "to"),
    ("/maps/data/hazards?as_of=9999-12-31", "as_of"),
    ("/api/risk?as_of=9999-12-31", "as_of"),
    ("/api/risk?as_of=0001-01-01T00:00:00", "as_of"),
    ("/maps/risk?as_of=9999-12-31", "as_of"),
    ("/api/incidents?from=9999-12-31T23:59:59", "from"),
    ("/api/hazards?to=0001-01-01", "to"),
    ("/api/admin/audit?since=0001-01-01T00:00:00", "since"),
]


@pytest.mark.parametrize(("url", "name"), OUT_OF_RANGE_DATES)
def test_date_out_of_range_is_400_naming_parameter_and_range(
    db: Engine, db_settings: Settings, url: str, name: str
) -> None:
    with api_client(db_settings) as client:
        response = client.get(url)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith(f"{name}: "), detail
    assert f"{EARLIEST} to {LATEST}" in detail
    assert response.headers["x-content-type-options"] == "nosniff"


# A square whose ring does not close (last vertex differs from the first), and one whose first
# vertex is NaN: GEOS refuses to build either.
OPEN_RING = [[113.60, 34.70], [113.61, 34.70], [113.61, 34.71], [113.60, 34.71]]
NAN_RING = [[float("nan"), 34.70], [113.61, 34.70], [113.61, 34.71], [113.60, 34.70]]


def _polygons_file(tmp_path: Path, ring: list[list[float]]) -> Path:
    good = [[113.62, 34.70], [113.63, 34.70], [113.63, 34.71], [113.62, 34.71], [113.62, 34.70]]
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": code},
            "geometry": {"type": "Polygon", "coordinates": [coords]},
        }
        for code, coords in (("A", good), ("B", ring))
    ]
    path = tmp_path / "rings.geojson"
    # json writes NaN as the bare word NaN, which GDAL reads as a NaN coordinate.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize("ring", [OPEN_RING, NAN_RING], ids=["unclosed", "nan-first"])
@pytest.mark.parametrize("url", ["/api/admin/boundaries", "/api/admin/layers/buildings"])
def test_bad_ring_is_422_naming_the_feature(
    db: Engine, db_settings: Settings, tmp_path: Path, ring: list[list[float]], url: str
) -> None:
    path = _polygons_file(tmp_path, ring)
    with api_client(db_settings) as client:
        response = client.post(
            url,
            files={"file": (path.name, path.read_bytes(), "application/geo+json")},
            data={"level": "subdistrict", "crs": "EPSG:4326"},
        )
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["row"] for p in problems] == [2]
    assert "ring not closed" in problems[0]["reason"]


def test_bad_ring_on_the_command_line_names_the_feature(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    path = _polygons_file(tmp_path, OPEN_RING)
    done = gridsafe(db_settings, "import", "boundaries", str(path), "--level", "subdistrict")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert "row 2" in done.stderr + done.stdout


CSV_HEADER = "source,source_id,type,occurred_at,lon,lat\n"
CSV_ROW = "110,{n},fire,2025-03-01 08:30,113.6843,34.7723\n"


def _csv(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "incidents.csv"
    path.write_bytes(data)
    return path


BAD_CSVS = {
    # a field over the csv module's limit (131072 characters), on the file's third line
    "huge-field": (
        (CSV_HEADER + CSV_ROW.format(n=1)).encode()
        + b'110,2,fire,2025-03-01 08:30,113.6843,34.7723,"'
        + b"x" * 200_000
        + b'"\n',
        "row 3",
    ),
    # GBK text behind a UTF-8 byte-order mark
    "gbk-with-bom": (
        codecs.BOM_UTF8
        + ("来源,编号,类型,发生时间,经度,纬度\n" + "110,1,火灾,2025-03-01,113.68,34.77\n").encode(
            "gbk"
        ),
        "line 1",
    ),
    # UTF-8 with one stray 0xFF byte on line 3
    "stray-ff": (
        (CSV_HEADER + CSV_ROW.format(n=1)).encode() + b"110,2,fire\xff,2025-03-01,113.68,34.77\n",
        "line 3",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_names_file_and_row(
    db: Engine, db_settings: Settings, tmp_path: Path, case: str
) -> None:
    data, where = BAD_CSVS[case]
    path = _csv(tmp_path, data)
    with pytest.raises(InputError) as caught:
        import_records(db, db_settings, path, kind="incidents")
    assert str(caught.value).startswith("incidents.csv: ")
    assert where in str(caught.value)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 0
    done = gridsafe(db_settings, "import", "incidents", str(path))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert where in done.stderr + done.stdout


@pytest.mark.parametrize("kind", ["incidents", "hazards"])
def test_a_post_waiting_on_the_cell_lookup_gets_its_503_after_the_wait(
    db: Engine, db_settings: Settings, kind: str
) -> None:
    # A file import holds the region's cell-lookup lock from its start to its commit; an
    # admin's POST (unscoped, so it takes that lock too) waited for the whole import.
    build_district(db, db_settings)
    settings = db_settings.replace(submit_wait_s=0.5)
    record = {
        "source": "三零平台",
        "source_id": "W1",
        "type": "dispute",
        "category": "fire",
        "name": "灭火器过期",
        "method": "LS",
        "l": 2,
        "s": 2,
        "occurred_at": "2025-06-01 10:00",
        "identified_at": "2025-06-01 10:00",
        "x": X0 + 50,
        "y": Y0 + 50,
        "crs": "EPSG:4547",
    }
    answers: list[tuple[int, str, float]] = []

    def post() -> None:
        started = time.monotonic()
        response = client.post(f"/api/{kind}", json=record)
        waited = time.monotonic() - started
        answers.append((response.status_code, response.headers.get("retry-after", ""), waited))

    with api_client(settings) as client:
        with db.begin() as importing:  # stands for a file import under way
            lock_cells(importing, settings)
            waiting = threading.Thread(target=post)
            waiting.start()
            waiting.join(timeout=5)
            answered = not waiting.is_alive()
        waiting.join()
        assert answered, "the POST waited for the import's whole transaction"
        status, retry_after, waited = answers[0]
        assert status == 503
        assert retry_after == str(settings.db.retry_after_s)
        assert 0.5 <= waited < 3
        assert client.post(f"/api/{kind}", json=record).status_code == 200


def _run_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM risk_runs")).scalar_one())


def test_a_read_never_stores_a_run_for_a_past_date(db: Engine, db_settings: Settings) -> None:
    build_district(db, db_settings)  # the current map: computed as of AS_OF, one red area
    runs = _run_count(db)
    later = (AS_OF + timedelta(days=10)).isoformat()
    with api_client(db_settings, Role.LEADER) as leader:
        current = leader.get("/api/risk", params={"level": "micro", "as_of": later}).json()
    with api_client(db_settings, Role.GRID_MEMBER, scope="S-0-0") as member:
        for day in ("2001-01-01", "2000-12-31", "1999-06-01"):
            refused = member.get("/api/risk", params={"as_of": day})
            assert refused.status_code == 404, refused.text
            assert "gridsafe risk compute --as-of" in refused.json()["detail"]
    assert _run_count(db) == runs
    with api_client(db_settings, Role.LEADER) as leader:
        again = leader.get("/api/risk", params={"level": "micro", "as_of": later}).json()
    assert again["run"] == current["run"]
    assert "red" in {f["properties"]["colour"] for f in again["features"]}


def _failed_logins(client: TestClient, n: int, *, rotate: bool) -> list[int]:
    statuses = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"198.51.100.{i}"} if rotate else {}
        body = {"username": f"nobody-{i}", "password": "wrong-password-123"}
        statuses.append(client.post("/api/auth/token", json=body, headers=headers).status_code)
    return statuses


def test_forwarded_for_counts_only_from_a_trusted_proxy(db: Engine, db_settings: Settings) -> None:
    # Every request comes from one client; rotating X-Forwarded-For must not escape its limit.
    limit = 4 * db_settings.access.login_max_failures
    with TestClient(create_app(db_settings)) as client:
        statuses = _failed_logins(client, limit + 1, rotate=True)
    assert statuses[-1] == 429, statuses
    # Behind a proxy named in GRIDSAFE_TRUSTED_PROXIES the header names the client.
    trusting = db_settings.replace(trusted_proxies=["testclient"])
    with TestClient(create_app(trusting)) as client:
        statuses = _failed_logins(client, limit + 1, rotate=True)
    assert 429 not in statuses


def test_json_answers_are_not_cached(db: Engine, db_settings: Settings) -> None:
    with api_client(db_settings) as client:
        for url in ("/api/areas", "/api/auth/me", "/api/incidents?limit=1"):
            assert client.get(url).headers.get("cache-control") == "no-store", url


def test_a_small_page_of_incidents_counts_no_further_than_the_cap(
    db: Engine, db_settings: Settings
) -> None:
    # 1.8M incidents made GET /api/incidents?limit=5 take seconds: every call counted them all.
    # Here 60 incidents and a cap of 25: the answer says "at least 25", not 60.
    settings = db_settings.replace(list_count_cap=25)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents "
                "(region, source, source_id, type, occurred_at, reported_at, geom) "
                "SELECT :region, 'bench', n::text, 'dispute', "
                "  timestamptz '2025-06-01 00:00+08' + n * interval '1 hour', "
                "  timestamptz '2025-06-01 00:00+08' + n * interval '1 hour', "
                "  ST_SetSRID(ST_MakePoint(468050, 3846850), 4547) "
                "FROM generate_series(1, 60) n"
            ),
            {"region": settings.region},
        )
    with api_client(settings) as client:
        page = client.get("/api/incidents", params={"limit": 5}).json()
        few = client.get("/api/incidents", params={"limit": 5, "from": "2025-06-03T06:00"}).json()
    assert len(page["features"]) == 5
    assert page["features"][0]["properties"]["source_id"] == "60"
    assert (page["total"], page["total_exact"]) == (25, False)
    assert (few["total"], few["total_exact"]) == (7, True)  # hours 54-60


def _zipped_garbage_shapefile() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.shp", b"garbage" * 10)
        archive.writestr("a.dbf", b"x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [("bad.gpkg", b"garbage" * 100), ("bad.zip", _zipped_garbage_shapefile())],
)
@pytest.mark.parametrize("url", ["/api/admin/boundaries", "/api/admin/layers/roads"])
def test_upload_errors_do_not_show_server_paths(
    db: Engine, db_settings: Settings, name: str, data: bytes, url: str
) -> None:
    with api_client(db_settings) as client:
        response = client.post(
            url,
            files={"file": (name, data, "application/octet-stream")},
            data={"level": "subdistrict"},
        )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}: cannot be read as a vector layer")
    assert tempfile.gettempdir() not in response.text
    assert "gridsafe-upload-" not in response.text


def test_a_formula_without_a_saved_value_is_a_warning(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    # openpyxl (like most generators) saves a formula without its value: read as values, the
    # cell is empty, and the description was stored empty without a word.
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["来源", "编号", "类型", "发生时间", "经度", "纬度", "描述"])
    sheet.append(["110", "1", "火灾", "2025-03-01 08:30", 113.6843, 34.7723, '=CONCAT("a","b")'])
    sheet.append(["110", "2", "火灾", "2025-03-01 08:30", 113.6843, 34.7723, "plain"])
    path = tmp_path / "formula.xlsx"
    book.save(path)
    report = import_records(db, db_settings, path, kind="incidents")
    assert report.inserted == 2
    warned = [(p.row, p.reason) for p in report.warnings if "formula" in p.reason]
    assert len(warned) == 1, warned
    assert warned[0][0] == 2
    assert '=CONCAT("a","b")' in warned[0][1]
    assert "描述" in warned[0][1]


# A grid head of S-0-0 (micro-grids M00, M01, M10, M11); M33 is another grid's.
HEAD_SCOPE = "S-0-0"
NEAR = (X0 + CELL / 2, Y0 + CELL / 2)  # M00
FAR = (X0 + 3.5 * CELL, Y0 + 3.5 * CELL)  # M33
REPORTS: dict[str, dict[str, object]] = {
    "/api/incidents": {"source": "110", "type": "dispute", "occurred_at": "2025-06-01T09:00",
                       "description": "d", "crs": "EPSG:4547"},
    "/api/hazards": {"source": "110", "category": "消防", "identified_at": "2025-06-01T09:00",
                     "method": "LS", "l": 3, "s": 4, "crs": "EPSG:4547"},
}  # fmt: skip
KEYED_ROWS = (
    "SELECT 'incidents', source_id, area_code, description FROM incidents WHERE source = '110' "
    "UNION ALL SELECT 'hazards', source_id, area_code, description FROM hazards "
    "WHERE source = '110' UNION ALL "
    "SELECT 'checkins', person, area_code, declared_code FROM checkins ORDER BY 1, 2, 3"
)


def _report(
    client: TestClient, url: str, ident: str, where: tuple[float, float], text_: str = "d"
) -> dict[str, object]:
    x, y = where
    if url == "/api/visits":
        body: object = {"crs": "EPSG:4547", "checkins": [
            {"person": ident, "time": "2025-06-01T09:00", "x": x, "y": y}]}  # fmt: skip
    else:
        body = {**REPORTS[url], "source_id": ident, "x": x, "y": y, "description": text_}
    response = client.post(url, json=body)
    assert response.status_code == 200, (url, ident, response.text)
    answer: dict[str, object] = json.loads(response.text.replace(ident, "ID"))
    return answer


def _reported(client: TestClient, url: str) -> list[dict[str, Any]]:
    """The records of source 110 the client sees (the district's own hazards are another's)."""
    features = client.get(url, params={"limit": 100}).json()["features"]
    return [f for f in features if f["properties"]["source"] == "110"]


@pytest.mark.parametrize("url", [*REPORTS, "/api/visits"])
def test_a_grid_head_cannot_tell_which_ids_exist_in_other_areas(
    db: Engine, db_settings: Settings, url: str
) -> None:
    # Posting another area's (source, source id), or check-in's (person, time), inside the grid
    # head's own area answered 403 "outside your area", a fresh one 200.
    build_district(db, db_settings)
    with api_client(db_settings, Role.DISPATCHER) as desk:
        _report(desk, url, "taken", FAR)
    with db.connect() as conn:
        before = conn.execute(text(KEYED_ROWS)).all()
    with api_client(db_settings, Role.GRID_HEAD, HEAD_SCOPE) as head:
        taken = _report(head, url, "taken", NEAR)
        assert taken == _report(head, url, "fresh", NEAR)
        # The grid head's record is theirs to correct, like any other.
        again = _report(head, url, "taken", NEAR, "changed")
        assert again == _report(head, url, "fresh", NEAR, "changed")
        if url != "/api/visits":
            listed = _reported(head, url)
            assert sorted(f["properties"]["source_id"] for f in listed) == ["fresh", "taken"]
            assert all(f["properties"]["area_code"] == "M00" for f in listed)
    with db.connect() as conn:
        after = conn.execute(text(KEYED_ROWS)).all()
    assert [r for r in after if r[2] == "M33"] == [r for r in before if r[2] == "M33"]
    with api_client(db_settings, Role.LEADER) as leader:
        if url == "/api/visits":
            assert [(r[1], r[2]) for r in after] == [
                ("fresh", "M00"), ("taken", "M00"), ("taken", "M33")]  # fmt: skip
        else:
            listed = _reported(leader, url)
            seen = sorted((f["properties"]["source_id"], f["properties"]["area_code"])
                          for f in listed)  # fmt: skip
            assert seen == [("fresh", "M00"), ("taken", "M00"), ("taken", "M33")]
