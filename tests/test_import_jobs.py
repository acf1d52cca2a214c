"""The import page's job API without a browser (issue 19): an upload is previewed and nothing
is written until the officer runs it; the run is a background job whose report names every
rejected row in Chinese; a job is its owner's; an upload cut halfway writes nothing; the API
docs page sends a signed-in user's CSRF token.

The district is the hand-made one of tests/test_maps (``S`` → four level-3 grids → sixteen
100 m micro-grids ``M00``..``M33``).
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from api.app import create_app
from api.auth import SESSION_COOKIE
from geo.access import Role
from geo.settings import Settings
from tests.browser import serve
from tests.clients import api_client, make_user, session_for, token_for
from tests.test_maps import CELL, X0, Y0, build_district

TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)
HEADER = "事件编号,事件类型,发生时间,经度,纬度,发生地点"


def centre(row: int, col: int) -> tuple[float, float]:
    """The WGS84 lon/lat of micro-grid ``M{row}{col}``'s centre."""
    lon, lat = TO_WGS84.transform(X0 + CELL * col + CELL / 2, Y0 + CELL * row + CELL / 2)
    return float(lon), float(lat)


def ledger(rows: Sequence[tuple[str, str, str, str | None]], header: str = HEADER) -> bytes:
    """A CSV ledger: (id, type, time, micro-grid code or a bad coordinate text) per row."""
    lines = [header]
    for ident, kind, when, where in rows:
        if where is not None and where.startswith("M"):
            lon, lat = centre(int(where[1]), int(where[2]))
            lines.append(f"{ident},{kind},{when},{lon:.7f},{lat:.7f},某路{ident}号")
        else:
            lines.append(f"{ident},{kind},{when},{where or ''},34.7,某路{ident}号")
    return ("\n".join(lines) + "\n").encode()


GOOD_AND_BAD = [
    ("A1", "dispute", "2026-11-20 09:00", "M00"),
    ("A2", "fire", "2026-11-20 10:00", "M11"),
    ("A3", "assault", "2026-11-21 22:15", "M23"),
    ("A4", "寻衅滋事", "2026-11-21 23:00", "M01"),  # a word the vocabulary does not know
    ("A5", "dispute", "yesterday-ish", "M02"),  # a time that cannot be read
    ("A6", "dispute", "2026-11-22 08:00", "east"),  # a longitude that is not a number
]


@pytest.fixture(scope="module")
def desk(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    engine, settings = make_db("importjobs")
    build_district(engine, settings)
    return engine, settings


def counts(engine: Engine) -> tuple[int, int]:
    """Stored incidents and import runs."""
    with engine.connect() as conn:
        incidents = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        runs = conn.execute(text("SELECT count(*) FROM import_runs")).scalar_one()
    return int(incidents), int(runs)


def finished(client: TestClient, job: dict[str, Any], *, timeout: float = 120) -> dict[str, Any]:
    """Poll the job as the page does until it ends."""
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"the import did not end: {job}"
        time.sleep(0.1)
        answer = client.get(f"/api/import/jobs/{job['id']}")
        assert answer.status_code == 200, answer.text
        job = answer.json()
    return job


def upload(client: TestClient, name: str, body: bytes, kind: str = "incidents") -> dict[str, Any]:
    answer = client.post(
        "/api/import/uploads", data={"kind": kind}, files={"file": (name, body, "text/csv")}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_preview_then_run_then_report(desk: tuple[Engine, Settings]) -> None:
    engine, settings = desk
    before = counts(engine)
    with api_client(settings, Role.DATA_OFFICER) as client:
        preview = upload(client, "台账.csv", ledger(GOOD_AND_BAD))
        # The head of the file, its encoding and CRS, and each field's column with its basis.
        assert preview["encoding"] == "utf-8-sig"
        assert preview["crs"] == "EPSG:4326"
        assert preview["headers"] == HEADER.split(",")
        assert [r[0] for r in preview["rows"]] == [r[0] for r in GOOD_AND_BAD]
        guesses = {g["field"]: g for g in preview["guesses"]}
        assert guesses["source_id"] == {
            "field": "source_id",
            "columns": ["事件编号"],
            "basis": "header",
            "required": False,
        }
        assert guesses["lon"]["columns"] == ["经度"]
        assert guesses["type"]["columns"] == ["事件类型"]
        assert guesses["type"]["required"]
        assert guesses["reported_at"]["basis"] == "none"
        assert preview["source"] == "台账"
        # Nothing is written by looking.
        assert counts(engine) == before

        started = client.post(
            "/api/import/jobs",
            json={"upload": preview["upload"], "kind": "incidents", "source": "hotline"},
        )
        assert started.status_code == 202, started.text
        job = finished(client, started.json())
    assert job["state"] == "done", job
    assert job["progress"] == 1.0
    report = job["report"]
    assert (report["inserted"], report["updated"], report["unchanged"]) == (3, 0, 0)
    reasons = {p["row"]: p["reason_text"] for p in report["rejected"]}
    assert sorted(reasons) == [5, 6, 7]
    assert "寻衅滋事" in reasons[5]
    assert "未知的事件类型" in reasons[5]
    assert "yesterday-ish" in reasons[6]
    assert "不是日期时间" in reasons[6]
    assert "east" in reasons[7]
    assert "不是数字" in reasons[7]
    assert [(c["field"], c["value"], c["rows"]) for c in report["candidates"]] == [
        ("type", "寻衅滋事", [5])
    ]
    assert job["run_id"] is not None
    assert counts(engine) == (before[0] + 3, before[1] + 1)


def test_the_uploaded_file_is_imported_once(desk: tuple[Engine, Settings]) -> None:
    """The run takes the staged file away: a second run of the same upload finds nothing."""
    _, settings = desk
    with api_client(settings, Role.ADMIN) as client:
        preview = upload(client, "once.csv", ledger(GOOD_AND_BAD[:1]))
        body = {"upload": preview["upload"], "kind": "incidents"}
        job = finished(client, client.post("/api/import/jobs", json=body).json())
        assert job["state"] == "done"
        again = client.post("/api/import/jobs", json=body)
    assert again.status_code == 404, again.text


def test_a_job_and_an_upload_are_their_owners(desk: tuple[Engine, Settings]) -> None:
    _, settings = desk
    with (
        api_client(settings, Role.DATA_OFFICER) as mine,
        api_client(settings, Role.DATA_OFFICER) as theirs,
    ):
        preview = upload(mine, "mine.csv", ledger(GOOD_AND_BAD[:2]))
        body = {"upload": preview["upload"], "kind": "incidents"}
        assert theirs.post("/api/import/jobs", json=body).status_code == 404
        job = mine.post("/api/import/jobs", json=body).json()
        assert theirs.get(f"/api/import/jobs/{job['id']}").status_code == 404
        assert finished(mine, job)["state"] == "done"


def test_a_file_that_cannot_be_read_is_refused_before_anything(
    desk: tuple[Engine, Settings],
) -> None:
    engine, settings = desk
    before = counts(engine)
    with api_client(settings, Role.DATA_OFFICER) as client:
        bad = client.post(
            "/api/import/uploads",
            data={"kind": "incidents"},
            files={"file": ("ledger.csv", b"\xff\xfe\x00bad\x81\x00" * 3, "text/csv")},
        )
        wrong = client.post(
            "/api/import/uploads",
            data={"kind": "incidents"},
            files={"file": ("ledger.docx", b"PK", "application/octet-stream")},
        )
    assert bad.status_code == 400, bad.text
    assert wrong.status_code == 400, wrong.text
    assert ".docx" in wrong.text
    assert counts(engine) == before


@contextlib.contextmanager
def private_tmp(tmp_path: Path) -> Iterator[Path]:
    """Every temporary file of this process (Starlette's spooled parts, the staged uploads)
    made in ``tmp_path``, to see that nothing is left there."""
    old = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        yield tmp_path
    finally:
        tempfile.tempdir = old


def test_an_upload_cut_halfway_writes_nothing(
    desk: tuple[Engine, Settings], tmp_path: Path
) -> None:
    """A browser closing the connection in the middle of the body (the officer closed the tab):
    the handler never runs, no file stays behind, nothing is imported."""
    engine, settings = desk
    before = counts(engine)
    token = token_for(settings, make_user(settings, Role.DATA_OFFICER))
    # 4 MB of rows, past Starlette's in-memory spool, so a part is on disk when the cut comes.
    rows = [(f"C{i}", "dispute", "2026-11-20 09:00", "M00") for i in range(60_000)]
    payload = ledger(rows)
    boundary = "cut-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nincidents\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with private_tmp(tmp_path), serve(settings) as base:
        host, port = base.removeprefix("http://").split(":")
        head = (
            f"POST /api/import/uploads HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(head + body[: len(body) // 2])
            time.sleep(1.0)  # the server has read and spooled the first half
        deadline = time.monotonic() + 10
        while any(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(p.name for p in tmp_path.rglob("*"))
    assert left == [], f"left behind: {left}"
    assert counts(engine) == before


def test_the_docs_page_sends_the_session_csrf_token(desk: tuple[Engine, Settings]) -> None:
    """Signed in on the pages, /docs holds the session's CSRF token and its script sends it
    with every change; so a change made from /docs is no longer refused for lack of it."""
    _, settings = desk
    cookie, csrf = session_for(settings, make_user(settings, Role.ADMIN))
    with TestClient(create_app(settings)) as client:
        anonymous = client.get("/docs")
        client.cookies.set(SESSION_COOKIE, cookie)
        signed_in = client.get("/docs")
        script = client.get("/static/gridsafe/docs.js")
        refused = client.post("/api/admin/layers/roads", files={"file": ("r.geojson", b"{}")})
        sent = client.post(
            "/api/admin/layers/roads",
            files={"file": ("r.geojson", b"{}")},
            headers={"X-CSRF-Token": csrf},
        )
    assert '<meta name="csrf-token" content="">' in anonymous.text
    assert f'<meta name="csrf-token" content="{csrf}">' in signed_in.text
    assert "/static/gridsafe/docs.js" in signed_in.text
    assert "requestInterceptor" in script.text
    assert "X-CSRF-Token" in script.text
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert sent.status_code == 400, sent.text  # past the CSRF check: the file is no layer
