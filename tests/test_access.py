"""Who may see and change what: every route of the app, called as every role and anonymously,
inside and outside the caller's area (issue 9).

The route table below is the specification. It is compared with the routes the app serves, so
a route added without a line here fails :func:`test_every_route_is_in_the_matrix`.

The district (tests/test_maps.build_district): ``S`` → ``S-0``, ``S-1`` → ``S-g-h`` → four
micro-grids each. The grid head's area is ``S-0-0`` (micro-grids M00, M01, M10, M11), the grid
member's ``M00``. Every record carries its micro-grid's code in its ids (``inc-M00``,
``unit-M00``, ``person-M00``) so that a leak is a token in the response, whatever its format.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import mapbox_vector_tile
import openpyxl
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from api.app import create_app
from geo.access import Role, disable_user, issue_token, revoke_token
from geo.cases import open_case
from geo.coverage.checkins import import_checkins
from geo.coverage.compute import tracks_geojson
from geo.coverage.periods import between
from geo.coverage.tracks import import_tracks
from geo.database import acting_as, make_engine
from geo.field import photos as photo_store
from geo.records import submit_records
from geo.risk import as_of_instant, run_risk
from geo.settings import Settings
from tests.clients import api_client, make_user, token_for
from tests.fieldwork import photo_with_gps
from tests.test_maps import AS_OF, CELL, X0, Y0, build_district
from tests.test_routes_page import _plan
from tests.test_tiles import tile_of

ALL = frozenset(Role)
PUBLIC = "public"
A, L, D, H, M = Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.GRID_HEAD, Role.GRID_MEMBER
DO = Role.DATA_OFFICER
# Who imports: admins and data officers (who manage no users).
IMPORT = frozenset({A, DO})

# (method, path) -> who may call it: PUBLIC (no credentials needed) or the roles admitted.
MATRIX: dict[tuple[str, str], str | frozenset[Role]] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/static/{name:path}"): PUBLIC,
    ("GET", "/field/sw.js"): PUBLIC,
    ("POST", "/api/auth/token"): PUBLIC,
    ("POST", "/logout"): ALL,
    ("DELETE", "/api/auth/token"): ALL,
    ("GET", "/api/auth/me"): ALL,
    ("POST", "/api/auth/language"): ALL,
    ("GET", "/api/areas"): ALL,
    ("GET", "/api/areas/{code}"): ALL,
    ("POST", "/api/admin/boundaries"): frozenset({A}),
    ("POST", "/api/admin/layers/{kind}"): frozenset({A}),
    ("GET", "/api/admin/users"): frozenset({A}),
    ("GET", "/api/admin/audit"): frozenset({A}),
    ("POST", "/api/admin/users"): frozenset({A}),
    ("PATCH", "/api/admin/users/{user_id}"): frozenset({A}),
    ("GET", "/admin/users"): frozenset({A}),
    ("GET", "/admin/audit"): frozenset({A}),
    ("GET", "/api/imports"): IMPORT,
    ("GET", "/api/imports/mappings"): IMPORT,
    ("GET", "/api/imports/{run_id}"): IMPORT,
    ("GET", "/api/imports/{run_id}/rejected"): IMPORT,
    ("GET", "/api/synonyms"): IMPORT,
    ("PUT", "/api/synonyms/{word}"): IMPORT,
    ("DELETE", "/api/synonyms/{word}"): IMPORT,
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): ALL,
    ("POST", "/api/incidents"): frozenset({A, D, H, M}),
    ("POST", "/api/hazards"): frozenset({A, D, H, M}),
    ("GET", "/api/incidents"): ALL,
    ("GET", "/api/hazards"): ALL,
    ("GET", "/api/risk"): ALL,
    ("GET", "/api/risk/{code}"): ALL,
    ("GET", "/api/risk/changes"): ALL,
    ("GET", "/"): ALL,
    ("GET", "/maps/risk"): ALL,
    ("GET", "/maps/risk.pdf"): ALL,
    ("GET", "/maps/data/hazards"): ALL,
    ("GET", "/maps/data/incidents"): ALL,
    ("POST", "/api/tracks"): frozenset({A, D}),
    ("POST", "/api/visits"): frozenset({A, D, H, M}),
    ("GET", "/api/coverage"): ALL,
    ("GET", "/api/gaps"): ALL,
    ("GET", "/maps/coverage"): ALL,
    ("POST", "/api/routes"): frozenset({A, D}),
    ("GET", "/api/routes/{plan_id}.geojson"): frozenset({A, L, D}),
    ("GET", "/api/routes/{plan_id}.gpx"): frozenset({A, L, D}),
    ("GET", "/api/routes/{plan_id}"): frozenset({A, L, D}),
    ("GET", "/api/routes/{plan_id}/review"): frozenset({A, L, D}),
    ("GET", "/maps/routes/{plan_id}"): frozenset({A, L, D}),
    ("GET", "/api/cases"): ALL,
    ("POST", "/api/cases"): frozenset({A, D, H}),
    ("GET", "/api/cases/export"): ALL,
    ("GET", "/api/cases/{case_id}"): ALL,
    ("POST", "/api/cases/{case_id}/transitions"): frozenset({A, D, H}),
    ("GET", "/api/stats"): ALL,
    ("GET", "/stats"): ALL,
    ("POST", "/api/field/reports"): frozenset({A, D, H, M}),
    ("POST", "/api/field/checkins"): frozenset({A, D, H, M}),
    ("POST", "/api/field/hazards/{hazard_id}/rectifications"): frozenset({A, D, H, M}),
    ("GET", "/api/field/photos/{photo_id}"): ALL,
    ("GET", "/api/field/photos/{photo_id}/thumbnail"): ALL,
    ("GET", "/api/grids/{code}/people"): ALL,
    ("PUT", "/api/grids/{code}/people"): frozenset({A}),
    **{
        ("GET", path): frozenset({A, D, H, M})
        for path in (
            "/field",
            "/field/cases",
            "/field/cases/{case_id}",
            "/field/report",
            "/field/checkin",
            "/field/hazards",
            "/field/hazards/{hazard_id}",
            "/field/grid/{code}",
        )
    },
    ("GET", "/api/stations"): frozenset({A, L, D}),
    ("PUT", "/api/stations/{poi_id}"): frozenset({A, D}),
    ("GET", "/api/units"): frozenset({A, L, D}),
    ("PUT", "/api/units/{name}"): frozenset({A, D}),
    ("DELETE", "/api/units/{name}"): frozenset({A, D}),
    ("GET", "/maps/units"): frozenset({A, L, D}),
    ("GET", "/api/routes"): frozenset({A, L, D}),
    ("POST", "/api/routes/jobs"): frozenset({A, D}),
    ("GET", "/api/routes/jobs/{job_id}"): frozenset({A, L, D}),
    ("DELETE", "/api/routes/jobs/{job_id}"): frozenset({A, D}),
    ("POST", "/api/routes/{plan_id}/save"): frozenset({A, D}),
    ("GET", "/maps/routes"): frozenset({A, L, D}),
    ("GET", "/api/live"): frozenset({A, L, D}),
    ("GET", "/maps/live"): frozenset({A, L, D}),
    ("GET", "/maps/routes/{plan_id}/sheet/{unit_index}"): frozenset({A, L, D}),
    # The data desk: data officers import and read the history; only admins manage users.
    ("POST", "/api/import/uploads"): frozenset({A, DO}),
    ("POST", "/api/import/jobs"): frozenset({A, DO}),
    ("GET", "/api/import/jobs/{job_id}"): frozenset({A, DO}),
    ("GET", "/import"): frozenset({A, DO}),
    ("GET", "/import/history"): frozenset({A, DO}),
    ("GET", "/import/history/{run_id}"): frozenset({A, DO}),
    ("GET", "/upload"): frozenset({A, DO}),
    ("GET", "/admin"): frozenset({A}),
}
PAGES = {
    "/",
    "/maps/risk",
    "/maps/risk.pdf",
    "/maps/coverage",
    "/maps/routes/{plan_id}",
    "/stats",
    *(path for method, path in MATRIX if path.startswith("/field")),
    "/maps/units",
    "/maps/routes",
    "/maps/routes/{plan_id}/sheet/{unit_index}",
    "/maps/live",
    "/admin/users",
    "/admin/audit",
    "/import",
    "/import/history",
    "/import/history/{run_id}",
    "/upload",
    "/admin",
}

TO_4547 = Transformer.from_crs(4326, 4547, always_xy=True)
HEAD_SCOPE = "S-0-0"
MEMBER_SCOPE = "M00"
MICROS = [f"M{r}{c}" for r in range(4) for c in range(4)]
HEAD_MICROS = {"M00", "M01", "M10", "M11"}
ALL_CODES = {"S", "S-0", "S-1", *(f"S-{g}-{h}" for g in range(2) for h in range(2)), *MICROS}
T0 = datetime(2026, 11, 24, 9, 0)  # a Tuesday morning, local time


def _centre(code: str) -> tuple[float, float]:
    row, col = int(code[1]), int(code[2])
    return X0 + CELL * col + CELL / 2, Y0 + CELL * row + CELL / 2


def _app_routes() -> set[tuple[str, str]]:
    app = create_app(Settings())
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.router.routes):
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(context.path)))
    return found


def test_every_route_is_in_the_matrix() -> None:
    served = _app_routes()
    assert served - MATRIX.keys() == set(), "routes without an access rule in this test"
    assert MATRIX.keys() - served == set(), "rules for routes the app no longer serves"


@dataclass
class District:
    settings: Settings
    case_in: int  # a case in M00 (everyone's area)
    case_out: int  # a case in M33 (outside the grid head's and member's)
    plan_id: int
    photo_in: int  # a photo of the incident in M00
    photo_out: int  # a photo of the incident in M33
    hazard_in: int  # a hazard in M00
    hazard_out: int  # a hazard outside the grid head's and member's area


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]], tmp_path_factory: Any) -> District:
    """Records in every micro-grid: an incident, a patrol unit's fixes and a check-in each."""
    engine, settings = make_db("access")
    build_district(engine, settings)
    plan = _plan(engine, settings)
    report, _ = submit_records(
        engine,
        settings,
        [
            {
                "source": "110",
                "source_id": f"inc-{code}",
                "type": "dispute",
                "occurred_at": (T0 - timedelta(days=2)).isoformat(),
                "description": f"desc-{code}",
                "x": _centre(code)[0],
                "y": _centre(code)[1],
                "crs": "EPSG:4547",
            }
            for code in MICROS
        ],
        kind="incidents",
    )
    assert report.loaded == len(MICROS)
    tmp = tmp_path_factory.mktemp("access")
    tracks, visits = tmp / "tracks.csv", tmp / "visits.csv"
    with tracks.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit", "kind", "time", "x", "y"])
        for code in MICROS:
            x, y = _centre(code)
            for k in range(3):
                w.writerow([f"unit-{code}", "foot", (T0 + timedelta(seconds=10 * k)).isoformat(),
                            x + 3 * k, y])  # fmt: skip
        # One unit walks from M00 east through M01 into the next grid (M02, M03) and back: its
        # coverage of M00 and M01 must not depend on who asks.
        x0, y0 = _centre("M00")
        for k in range(44):
            leg = k if k < 22 else 43 - k
            w.writerow(["walker", "foot", (T0 + timedelta(seconds=10 * k)).isoformat(),
                        x0 + 14 * leg, y0 + 20])  # fmt: skip
    with visits.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person", "time", "x", "y"])
        for code in MICROS:
            w.writerow([f"person-{code}", T0.isoformat(), *_centre(code)])
    assert import_tracks(engine, settings, tracks, crs="EPSG:4547").loaded == 3 * len(MICROS) + 44
    assert import_checkins(engine, settings, visits, crs="EPSG:4547").loaded == len(MICROS)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT source_id, id FROM incidents")).all()
    ids = {r.source_id: r.id for r in rows}
    case_in = open_case(
        engine, settings, incident_id=ids["inc-M00"], actor="setup", platform="hotline"
    )["id"]
    case_out = open_case(
        engine, settings, incident_id=ids["inc-M33"], actor="setup", platform="hotline"
    )["id"]
    photos = {}
    with engine.begin() as conn:
        for code in ("M00", "M33"):
            photo_store.store(
                conn,
                region=settings.region,
                record_kind="incident",
                record_id=ids[f"inc-{code}"],
                area_code=code,
                photos=[photo_store.prepare(photo_with_gps(), f"{code}.jpg", settings.intake)],
                taken_by="setup",
            )
            photos[code] = conn.execute(
                text("SELECT max(id) FROM field_photos WHERE area_code = :c"), {"c": code}
            ).scalar_one()
        hazards: dict[bool, int] = dict(
            conn.execute(
                text(
                    "SELECT DISTINCT ON (area_code <> 'M00') area_code = 'M00', id FROM hazards "
                    "WHERE area_code = 'M00' OR NOT area_code = ANY(:head) "
                    "ORDER BY area_code <> 'M00', id"
                ),
                {"head": sorted(HEAD_MICROS)},
            ).all()
        )
    return District(
        settings,
        case_in,
        case_out,
        int(plan["id"]),
        photos["M00"],
        photos["M33"],
        hazards[True],
        hazards[False],
    )


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    kwargs: dict[str, Any]


def to_metric(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """A GeoJSON line's or multi-line's points back in EPSG:4547."""
    lines = geometry["coordinates"]
    if geometry["type"] == "LineString":
        lines = [lines]
    points = [p for line in lines for p in line]
    xs, ys = TO_4547.transform([p[0] for p in points], [p[1] for p in points])
    return list(zip(xs, ys, strict=True))


def _district_tile(z: int = 14) -> tuple[int, int, int]:
    """A tile holding the whole 400 m district (checked in the district fixture)."""
    corners = {tile_of(X0 + dx, Y0 + dy, z) for dx in (0, 4 * CELL) for dy in (0, 4 * CELL)}
    assert len(corners) == 1, "the district straddles tiles at this zoom"
    x, y = corners.pop()
    return z, x, y


def sample(method: str, path: str, d: District) -> Call:
    """A request for the route: in everyone's area (M00), and, for the routes that write, a
    body the handler refuses (422) so the matrix changes nothing; writes are tested below."""
    z, x, y = _district_tile()
    params = {
        "{code}": "M00",
        "{case_id}": str(d.case_in),
        "{plan_id}": str(d.plan_id),
        "{photo_id}": str(d.photo_in),
        "{hazard_id}": str(d.hazard_in),
        "{kind}": "roads",
        "{name}": "nobody",
        "{poi_id}": "S9",
        "{job_id}": "nojob",
        "{unit_index}": "0",
        "{user_id}": "1",
        "{run_id}": "1",
        "{word}": "nosuchword",
        "{name:path}": "gridsafe/maps.css",
        "{layer}": "incidents",
        "{z}": str(z),
        "{x}": str(x),
        "{y}": str(y),
    }
    url = path
    for key, value in params.items():
        url = url.replace(key, value)
    kwargs: dict[str, Any] = {}
    if method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = {"unexpected": True} if "/api/" in path else None
    if path == "/login" and method == "POST":
        kwargs = {"data": {}}
    return Call(method, url, kwargs)


def _client(d: District, role: Role | None) -> TestClient:
    if role is None:
        return TestClient(create_app(d.settings), follow_redirects=False)
    scope = {Role.GRID_HEAD: HEAD_SCOPE, Role.GRID_MEMBER: MEMBER_SCOPE}.get(role)
    return api_client(d.settings, role, scope, follow_redirects=False)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: str(r or "anonymous"))
def test_each_role_gets_what_the_matrix_says(district: District, role: Role | None) -> None:
    wrong = []
    with _client(district, role) as client:
        # The token's own deletion last: it signs the client out.
        last = ("DELETE", "/api/auth/token")
        for (method, path), rule in sorted(MATRIX.items(), key=lambda kv: kv[0] == last):
            call = sample(method, path, district)
            status = client.request(call.method, call.url, **call.kwargs).status_code
            if rule == PUBLIC:
                ok = status not in {401, 403} and status < 500
            elif role is None:
                ok = status == (303 if path in PAGES else 401)
            elif role in rule:
                ok = status not in {401, 403} and status < 500
            else:
                ok = status == 403
            if not ok:
                wrong.append((method, path, status))
    assert wrong == [], wrong


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), (Role.GRID_MEMBER, 403), (Role.DISPATCHER, 422)],
    ids=["anonymous", "grid_member", "dispatcher"],
)
def test_who_may_call_is_answered_before_a_broken_body(
    district: District, role: Role | None, status: int
) -> None:
    """A body that is not JSON at all tells a caller without credentials, or without the role,
    no more than a well-formed one would: 401 and 403 first, the 422 only for whoever may
    call the route (FastAPI reads the body before the route's dependencies)."""
    with _client(district, role) as client:
        r = client.post(
            "/api/tracks", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert r.status_code == status, r.text


# What a grid head / member must not see: every other area's code and its records' ids.
def _outside(scope_micros: set[str], scope_and_up: set[str]) -> set[str]:
    codes = ALL_CODES - scope_micros - scope_and_up
    records = {
        f"{prefix}-{code}"
        for code in set(MICROS) - scope_micros
        for prefix in ("inc", "desc", "unit")
    }
    return codes | records


HEAD_OUT = _outside(HEAD_MICROS, {"S", "S-0", "S-0-0"})
MEMBER_OUT = _outside({"M00"}, {"S", "S-0", "S-0-0"})
TOKEN = re.compile(r"[\w-]+")


def _tokens(body: bytes, content_type: str) -> set[str]:
    if content_type.startswith("application/vnd.mapbox-vector-tile"):
        layers = mapbox_vector_tile.decode(body)
        body = json.dumps(
            [f["properties"] for layer in layers.values() for f in layer["features"]],
            ensure_ascii=False,
        ).encode()
    elif content_type.startswith("application/pdf"):
        # The poster's words, as a reader of the sheet sees them (poppler-utils, installed by
        # scripts/setup.sh for the tests).
        body = subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
        ).stdout
    elif content_type.startswith("application/vnd.openxmlformats"):
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True)
                 for c in row]  # fmt: skip
        body = "\n".join(cells).encode()
    return set(TOKEN.findall(body.decode("utf-8", errors="replace")))


def _reads(d: District) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every read a scoped role may make, as (route, URL, parameters that show the most: micro
    level, wide periods); :func:`test_every_scoped_read_is_checked_for_leaks` holds it to the
    app's routes."""
    day = T0.date().isoformat()
    wide = {"from": "2025-01-01", "to": "2027-01-01"}
    yield "/api/areas", "/api/areas", {}
    yield "/api/areas", "/api/areas", {"level": "micro"}
    yield "/api/incidents", "/api/incidents", {}
    yield "/api/hazards", "/api/hazards", {}
    yield "/api/risk", "/api/risk", {"level": "micro"}
    yield "/api/risk", "/api/risk", {"level": "grid3"}
    yield "/maps/data/hazards", "/maps/data/hazards", {}
    yield "/maps/data/incidents", "/maps/data/incidents", {}
    coverage = {"level": "micro", "from": day, "to": (T0 + timedelta(days=1)).date().isoformat()}
    yield "/api/coverage", "/api/coverage", coverage
    yield "/api/gaps", "/api/gaps", {"at": (T0 + timedelta(hours=1)).isoformat()}
    for level in ("grid3", "grid2"):  # no patrol in the day before: every grid is listed
        later = {"at": (T0 + timedelta(days=2)).isoformat(), "level": level}
        yield "/api/gaps", "/api/gaps", later
    yield "/api/cases", "/api/cases", {}
    yield "/api/cases/export", "/api/cases/export", wide
    yield "/api/cases/export", "/api/cases/export", {**wide, "format": "xlsx"}
    yield "/api/stats", "/api/stats", {"from": "2026-01-01", "to": "2026-12-31"}
    yield "/", "/", {}
    yield "/maps/risk", "/maps/risk", {"level": "micro"}
    yield "/maps/risk.pdf", "/maps/risk.pdf", {"level": "micro"}
    yield "/api/risk/changes", "/api/risk/changes", {"from": day, "to": day, "level": "micro"}
    yield "/maps/coverage", "/maps/coverage", {"period": "day", "at": day}
    yield "/maps/coverage", "/maps/coverage", {"period": "shift", "at": day, "shift": "2"}
    yield "/stats", "/stats", {"from": "2026-01-01", "to": "2026-12-31"}
    z, x, y = _district_tile()
    for layer in ("areas", "incidents", "hazards"):
        tile = f"/tiles/{layer}/{z}/{x}/{y}.mvt"
        yield "/tiles/{layer}/{z}/{x}/{y}.mvt", tile, {"level": "micro"}
    yield "/api/areas/{code}", "/api/areas/M00", {}
    yield "/api/risk/{code}", "/api/risk/M00", {}
    yield "/api/cases/{case_id}", f"/api/cases/{d.case_in}", {}
    yield "/api/field/photos/{photo_id}", f"/api/field/photos/{d.photo_in}", {}
    yield "/api/field/photos/{photo_id}/thumbnail", f"/api/field/photos/{d.photo_in}/thumbnail", {}
    yield "/api/grids/{code}/people", "/api/grids/S-0-0/people", {}
    for page in ("/field", "/field/cases", "/field/report", "/field/checkin", "/field/hazards"):
        yield page, page, {}
    yield "/field/cases/{case_id}", f"/field/cases/{d.case_in}", {}
    yield "/field/hazards/{hazard_id}", f"/field/hazards/{d.hazard_in}", {}
    yield "/field/grid/{code}", "/field/grid/S-0-0", {}


# Reads a scoped role may make that cannot show another area's records, and why.
NOT_AREA_DATA = {
    "/api/auth/me": "the caller's own account",
}
# The parameters that name an area or a record of one: outside the caller's scope, each must
# answer 404 (it does not exist for them), on every route that has it.
AREA_PARAMETERS = {"area": "M33", "focus": "M33", "parent": "S-1", "code": "M33"}
# The parameters that name a record, and the district's record outside the scope for each.
RECORD_PARAMETERS = {"case_id": "case_out", "photo_id": "photo_out", "hazard_id": "hazard_out"}


def _scoped_reads() -> dict[str, list[str]]:
    """The app's GET routes a grid head or member may call, with their parameters (OpenAPI)."""
    spec = create_app(Settings()).openapi()
    routes = {}
    for (method, path), rule in MATRIX.items():
        if method != "GET" or rule == PUBLIC or not ({H, M} & set(rule)):
            continue
        if path in spec["paths"]:  # the docs and static assets are not in the spec
            routes[path] = [p["name"] for p in spec["paths"][path]["get"].get("parameters", [])]
    return routes


def test_every_scoped_read_is_checked_for_leaks(district: District) -> None:
    """Every GET route a scoped role may call is read by the leak test below, or says why it
    holds no area's data: a new read route without a sample fails here."""
    sampled = {route for route, _url, _params in _reads(district)}
    missing = _scoped_reads().keys() - sampled - NOT_AREA_DATA.keys()
    assert missing == set(), "reads the leak test does not make"


@pytest.mark.parametrize(
    ("role", "scope", "outside"),
    [(Role.GRID_HEAD, HEAD_SCOPE, HEAD_OUT), (Role.GRID_MEMBER, MEMBER_SCOPE, MEMBER_OUT)],
    ids=["grid_head", "grid_member"],
)
def test_no_record_outside_the_area_in_any_response(
    district: District, role: Role, scope: str, outside: set[str]
) -> None:
    leaks = {}
    with _client(district, role) as client:
        for _route, url, params in _reads(district):
            r = client.get(url, params=params)
            assert r.status_code == 200, (url, params, r.status_code, r.text[:300])
            found = _tokens(r.content, r.headers.get("content-type", "")) & outside
            if found:
                leaks[f"{url} {params}"] = sorted(found)
    assert leaks == {}


def test_a_leader_sees_everything_the_checks_look_for(district: District) -> None:
    """The control: the same reads as a leader show other areas' records, so the scope test
    above would see a leak."""
    seen: set[str] = set()
    with _client(district, Role.LEADER) as client:
        for route, url, params in _reads(district):
            if Role.LEADER not in MATRIX["GET", route]:  # the phone pages are the reporters'
                continue
            r = client.get(url, params=params)
            assert r.status_code == 200, (url, params, r.status_code)
            seen |= _tokens(r.content, r.headers.get("content-type", ""))
    assert HEAD_OUT - seen == set()


@pytest.mark.parametrize("role", [Role.GRID_HEAD, Role.GRID_MEMBER])
def test_outside_the_area_does_not_exist(district: District, role: Role) -> None:
    """Every parameter of every scoped read that names an area (or a case), given one outside
    the caller's area, answers 404, with the read's other parameters as the leak test sends
    them; the routes and their parameters come from the app."""
    samples = {route: (url, params) for route, url, params in _reads(district)}
    params: dict[str, Any]
    asked = []
    with _client(district, role) as client:
        for route, names in _scoped_reads().items():
            for name in names:
                if name in RECORD_PARAMETERS:
                    out = str(getattr(district, RECORD_PARAMETERS[name]))
                    url, params = route.replace("{" + name + "}", out), {}
                elif name not in AREA_PARAMETERS:
                    continue
                elif "{" + name + "}" in route:
                    url, params = route.replace("{" + name + "}", AREA_PARAMETERS[name]), {}
                else:
                    url, params = samples[route]
                    params = {**params, name: AREA_PARAMETERS[name]}
                r = client.get(url, params=params)
                asked.append(f"{url}?{name}")
                assert r.status_code == 404, (url, params, r.status_code, r.text[:200])
        for url in ("/api/areas/S-1", "/api/risk/S-1"):
            assert client.get(url).status_code == 404, url
        assert client.get("/api/areas/M00").status_code == 200
        assert client.get(f"/api/cases/{district.case_in}").status_code == 200
    # Each kind of parameter was found on the app's routes and tried (14 routes and parameters).
    assert {a.rsplit("?", 1)[1] for a in asked} == {
        "area",
        "focus",
        "parent",
        "code",
        *RECORD_PARAMETERS,
    }


@pytest.mark.parametrize("role", [Role.GRID_HEAD, Role.GRID_MEMBER])
def test_a_risk_map_nobody_computed_yet_is_computed_for_a_scoped_caller(
    district: District, role: Role
) -> None:
    """The first to ask for today's map has it computed over the whole region and kept; a
    scoped caller then reads only their areas of it, and a leader the same run in full. (A read
    keeps no run for a past date: tests/test_hardening.py.)"""
    engine = make_engine(district.settings.db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM risk_runs"))
    try:
        with _client(district, role) as client:
            r = client.get("/api/risk", params={"level": "micro"})
            assert r.status_code == 200, r.text
            mine = r.json()
            page = client.get("/maps/risk", params={"level": "micro"})
            assert page.status_code == 200
        with _client(district, Role.LEADER) as client:
            everything = client.get("/api/risk", params={"level": "micro"}).json()
        assert mine["run"] == everything["run"]
        codes = {f["properties"]["code"] for f in mine["features"]}
        assert codes
        assert codes < {f["properties"]["code"] for f in everything["features"]}
        assert "M33" not in codes
    finally:  # the module's other tests read the district's own map
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM risk_runs"))
        run_risk(engine, district.settings, as_of=as_of_instant(AS_OF, district.settings.timezone))
        engine.dispose()


WRITTEN_BY_HEAD = (
    "SELECT source_id FROM incidents WHERE source = '网格员' UNION ALL "
    "SELECT source_id FROM hazards WHERE source = '网格员' ORDER BY 1"
)


def test_a_grid_head_changes_only_their_own_area(district: District) -> None:
    with _client(district, Role.GRID_HEAD) as client:
        case = client.get(f"/api/cases/{district.case_out}")
        assert case.status_code == 404
        step = {"to": "dispatched", "version": 1, "squad": "patrol"}
        moved = client.post(f"/api/cases/{district.case_out}/transitions", json=step)
        assert moved.status_code == 404
        mine = client.post(f"/api/cases/{district.case_in}/transitions", json=step)
        assert mine.status_code == 200, mine.text
        assert mine.json()["events"][-1]["actor"].endswith("(grid_head)")
        inside, outside = _centre("M01"), _centre("M33")
        visit = {"person": "head-visit", "time": T0.isoformat()}
        ok = client.post(
            "/api/visits",
            json={"crs": "EPSG:4547", "checkins": [{**visit, "x": inside[0], "y": inside[1]}]},
        )
        assert ok.status_code == 200, ok.text
        refused = client.post(
            "/api/visits",
            json={"crs": "EPSG:4547", "checkins": [{**visit, "x": outside[0], "y": outside[1]}]},
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["loaded"] == 0  # reported row by row, nothing written
        assert refused.json()["rejected"][0]["reason"] == f"outside your area ({HEAD_SCOPE})"
        incident = {"source": "网格员", "type": "dispute", "occurred_at": T0.isoformat(),
                    "crs": "EPSG:4547"}  # fmt: skip
        far = client.post(
            "/api/incidents",
            json={**incident, "source_id": "far", "x": outside[0], "y": outside[1]},
        )
        assert far.status_code == 403, far.text
        near = client.post(
            "/api/incidents", json={**incident, "source_id": "near", "x": inside[0], "y": inside[1]}
        )
        assert near.status_code == 200, near.text
        # A batch with one record outside is refused whole: nothing of it is written.
        mixed = [
            {**incident, "source_id": "mixed-in", "x": inside[0], "y": inside[1]},
            {**incident, "source_id": "mixed-out", "x": outside[0], "y": outside[1]},
        ]
        assert client.post("/api/incidents", json=mixed).status_code == 403
        hazard = {"source": "网格员", "category": "消防", "identified_at": T0.isoformat(),
                  "method": "LS", "l": 3, "s": 4, "crs": "EPSG:4547"}  # fmt: skip
        far = client.post(
            "/api/hazards", json={**hazard, "source_id": "h-far", "x": outside[0], "y": outside[1]}
        )
        assert far.status_code == 403, far.text
        near = client.post(
            "/api/hazards", json={**hazard, "source_id": "h-near", "x": inside[0], "y": inside[1]}
        )
        assert near.status_code == 200, near.text
    engine = make_engine(district.settings.db)
    with engine.connect() as conn:
        written = conn.execute(text(WRITTEN_BY_HEAD)).scalars().all()
    engine.dispose()
    assert written == ["h-near", "near"]


def test_coverage_inside_the_area_does_not_depend_on_who_asks(district: District) -> None:
    """A grid head's coverage of their micro-grids counts the walker who left the area and came
    back exactly as a leader's does, and the walker's track is drawn only inside the area."""
    params = {"level": "micro", "from": T0.date().isoformat(),
              "to": (T0 + timedelta(days=1)).date().isoformat()}  # fmt: skip
    seen = {}
    for role in (Role.LEADER, Role.GRID_HEAD):
        with _client(district, role) as client:
            features = client.get("/api/coverage", params=params).json()["features"]
            seen[role] = {f["properties"]["code"]: f["properties"] for f in features}
    assert set(seen[Role.GRID_HEAD]) == HEAD_MICROS
    for code in HEAD_MICROS:
        assert seen[Role.GRID_HEAD][code] == seen[Role.LEADER][code], code
    assert seen[Role.LEADER]["M01"]["visits"] == 3  # its own unit, the walker out and back
    local = T0.replace(tzinfo=ZoneInfo(district.settings.timezone))
    period = between(local, local + timedelta(hours=1))
    engine = make_engine(district.settings.db)
    try:
        for scope, east in ((HEAD_SCOPE, X0 + 2 * CELL), (None, X0 + 50 + 14 * 21)):
            with acting_as("test", scope):
                tracks = json.loads(tracks_geojson(engine, district.settings, period=period))
            walker = [f for f in tracks["features"] if f["properties"]["unit"] == "walker"]
            assert walker, scope
            x_max = max(x for f in walker for x, _y in to_metric(f["geometry"]))
            assert x_max == pytest.approx(east, abs=0.5), scope
    finally:
        engine.dispose()


def test_the_audit_log_names_who_changed_what(district: District) -> None:
    admin = make_user(district.settings, Role.ADMIN)
    headers = {"Authorization": f"Bearer {token_for(district.settings, admin)}"}
    with TestClient(create_app(district.settings), headers=headers) as client:
        step = {"to": "dispatched", "version": None, "squad": "mediation"}
        current = client.get(f"/api/cases/{district.case_out}").json()
        step["version"] = current["version"]
        assert (
            client.post(f"/api/cases/{district.case_out}/transitions", json=step).status_code == 200
        )
        entries = client.get(
            "/api/admin/audit", params={"entity": "cases", "actor": admin.label}
        ).json()
    assert entries, "no audit entry for the case change"
    entry = entries[0]
    assert entry["action"] == "UPDATE"
    assert entry["before"][0]["state"] == current["state"]
    assert entry["after"][0]["state"] == "dispatched"
    # The app's login may not change the log at all (tests/test_privileges.py); even the
    # schema's owner, which may, is refused by its triggers.
    engine = make_engine(district.settings.db, owner=True)
    try:
        with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM audit_log"))
        with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text("TRUNCATE audit_log"))
    finally:
        engine.dispose()


def _me(settings: Settings, token: str) -> int:
    with TestClient(create_app(settings)) as client:
        return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_expired_revoked_and_forged_tokens_are_refused(district: District) -> None:
    settings = district.settings
    engine = make_engine(settings.db)
    try:
        user = make_user(settings, Role.LEADER)
        good = token_for(settings, user)
        assert _me(settings, good) == 200
        expired = issue_token(engine, user, "api", ttl=timedelta(seconds=-1)).secret
        assert _me(settings, expired) == 401
        assert revoke_token(engine, good)
        assert _me(settings, good) == 401
        assert _me(settings, "gs_" + "A" * 43) == 401  # forged: well-formed, never issued
        assert _me(settings, good[:-1] + ("A" if good[-1] != "A" else "B")) == 401  # tampered
        session = issue_token(engine, user, "session", ttl=timedelta(hours=1)).secret
        assert _me(settings, session) == 401  # a session cookie is not a bearer token
        other = make_user(settings, Role.DISPATCHER)
        live = token_for(settings, other)
        disable_user(engine, other.username)
        assert _me(settings, live) == 401  # disabled with its tokens
    finally:
        engine.dispose()


# The tables of the schema (a partitioned table once, without its partitions), as c.
PUBLIC_TABLES = (
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
)

# Every table of the schema, and what the scoped role (grid heads and members) may do with it:
# "rls" (row-level security decides which rows), "read" (reference data, all rows), "insert"
# (append only), or "none". A new table without a line here fails the suite: decide first.
TABLE_ACCESS = {
    "alembic_version": "none",
    "area_cell_grids": "read",
    "area_cells": "rls",
    "areas": "rls",
    "audit_log": "none",
    "buildings": "read",
    "case_events": "rls",
    "cases": "rls",
    "checkins": "rls",
    "coverage_cache": "rls",
    "fixes": "rls",
    "gridsafe_meta": "read",
    "hazards": "rls",
    "import_mappings": "none",
    "import_rejected": "none",
    "import_runs": "insert",
    "incident_types": "read",
    "incidents": "rls",
    "login_attempts": "none",
    "patrol_units": "none",
    "pois": "read",
    "risk_runs": "read",
    "risk_scores": "rls",
    "roads": "read",
    "route_legs": "rls",
    "route_plans": "rls",
    "route_stops": "rls",
    "routing_edges": "read",
    "routing_vertices": "read",
    "spatial_ref_sys": "read",
    "field_photos": "rls",
    "grid_people": "rls",
    "hazard_rectifications": "rls",
    "squad_members": "rls",
    "squads": "rls",
    "tokens": "none",
    "type_synonyms": "read",
    "users": "none",
}


def test_every_table_has_a_decided_access_for_the_scoped_role(district: District) -> None:
    engine = make_engine(district.settings.db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, "
                    "has_table_privilege('gridsafe_scoped', c.oid, 'SELECT'), "
                    "has_table_privilege('gridsafe_scoped', c.oid, 'INSERT') " + PUBLIC_TABLES
                )
            ).all()
    finally:
        engine.dispose()
    found = {}
    for name, rls, can_read, can_insert in rows:
        if rls:
            found[name] = "rls"
        elif can_read:
            found[name] = "read"
        elif can_insert:
            found[name] = "insert"
        else:
            found[name] = "none"
    assert found == TABLE_ACCESS


# Every table of the schema and its audit decision: audited (its key columns, passed to the
# audit triggers of migration a0011: INSERT, UPDATE and DELETE) or why not. A new table without a
# line here fails the suite: decide first.
DERIVED = "derived: rebuilt from audited tables, losing it loses nothing but time"
TABLE_AUDIT: dict[str, tuple[str, ...] | str] = {
    "alembic_version": "schema bookkeeping, written only by migrations",
    "area_cell_grids": DERIVED + " (the locate lookup, from areas)",
    "area_cells": DERIVED + " (the locate lookup, from areas)",
    "areas": ("id",),
    "audit_log": "the log itself: append-only",
    "buildings": ("id",),
    "case_events": ("id",),
    "cases": ("id",),
    "checkins": ("id",),
    "coverage_cache": DERIVED + " (patrol covers, from fixes and areas)",
    "field_photos": "photos: binary content kept out of the log, stored once with their record",
    "fixes": ("region", "unit", "t"),
    "grid_people": ("id",),
    "hazard_rectifications": ("id",),
    "gridsafe_meta": "the deployment's SRID, written only by migrations",
    "hazards": ("id",),
    "import_mappings": ("region", "kind", "source"),
    "import_rejected": "an import run's rejected rows, written once with its audited run",
    "import_runs": ("id",),
    "incident_types": ("code",),
    "incidents": ("id",),
    "login_attempts": "itself the log of sign-ins, appended only by the sign-in path",
    "patrol_units": ("region", "name"),
    "pois": ("id",),
    "risk_runs": ("id",),
    "risk_scores": "a risk run's output, only inserted with its audited risk_runs row",
    "roads": ("id",),
    "route_legs": ("plan_id", "unit_index", "seq"),
    "route_plans": ("id",),
    "route_stops": ("plan_id", "unit_index", "seq"),
    "routing_edges": DERIVED + " (the road network, from roads)",
    "routing_vertices": DERIVED + " (the road network, from roads)",
    "spatial_ref_sys": "PostGIS's CRS catalogue",
    "squad_members": ("id",),
    "squads": ("region", "grid_code", "kind"),
    "tokens": ("id",),
    "type_synonyms": ("word",),
    "users": ("id",),
}


def test_every_table_has_an_audit_decision_the_database_follows(district: District) -> None:
    engine = make_engine(district.settings.db)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT c.relname " + PUBLIC_TABLES)).scalars()
            # Per table, per audit trigger: its events and the key columns it passes.
            triggers = conn.execute(
                text(
                    "SELECT c.relname, "
                    "ARRAY(SELECT e FROM unnest(ARRAY['INSERT', 'DELETE', 'UPDATE'], "
                    "ARRAY[4, 8, 16]) AS x(e, bit) WHERE t.tgtype & bit <> 0), "
                    "string_to_array(rtrim(encode(t.tgargs, 'escape'), '\\000'), '\\000') "
                    "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_proc p ON p.oid = t.tgfoid "
                    "WHERE p.proname = 'audit_changes' AND NOT t.tgisinternal"
                )
            ).all()
            names = set(tables)
    finally:
        engine.dispose()
    assert names == set(TABLE_AUDIT)
    events: dict[str, list[str]] = {}
    keys: dict[str, set[tuple[str, ...]]] = {}
    for table, on, args in triggers:
        events.setdefault(table, []).extend(on)
        keys.setdefault(table, set()).add(tuple(args))
    audited = {t: k for t, k in TABLE_AUDIT.items() if isinstance(k, tuple)}
    assert {t: sorted(e) for t, e in events.items()} == {
        t: ["DELETE", "INSERT", "UPDATE"] for t in audited
    }
    assert keys == {t: {k} for t, k in audited.items()}
