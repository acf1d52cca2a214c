"""Faults: the database restarted under an import and under page loads, a disk that refuses an
upload (file too large, no permission), two imports of overlapping files at once, a POST while
an import writes, and an import stopped with Ctrl-C.

After each, the database must hold exactly what the reports say: nothing half-imported,
nothing duplicated, nothing lost. The tests that stop the database do it to a private cluster
of their own (tests/pgcluster.py), never to the shared one. Imports are stalled at a chosen row
by a trigger that sleeps, so the fault always lands mid-transaction with earlier batches already
written (uncommitted), whatever the machine's speed.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from api.app import create_app
from api.deps import EngineDep
from geo.access import Role
from geo.database import ensure_database, init_db, make_engine, settings_for
from geo.records import import_records, write_lock_key
from geo.report import ImportReport
from geo.settings import Settings
from tests.clients import api_client
from tests.pgcluster import PrivateCluster, available
from tests.test_maps import AS_OF, CELL, X0, Y0, build_district

GRIDSAFE = Path(sys.executable).with_name("gridsafe")
ROWS = 1000
BATCH = 100  # rows per import batch, so the stall at row STALL_AT falls in the third batch
STALL_AT = "I0250"
STALL_S = 120  # longer than any test waits: the fault ends it, never the clock

PATHS = (
    "/healthz",
    "/api/areas?level=micro",
    f"/api/risk?level=micro&as_of={AS_OF}",
    "/api/incidents?limit=10",
    f"/maps/risk?level=micro&as_of={AS_OF}",
    "/tiles/areas/0/0/0.mvt?level=micro",
)


def client_for(settings: Settings, app: FastAPI | None = None) -> TestClient:
    """The one place tests of this module make an HTTP client: signed in as an admin."""
    return api_client(settings, Role.ADMIN, app=app)


def write_incidents(path: Path, ids: range, *, note: str = "") -> None:
    """A CSV of incidents ``I0000``... spread over the 16 micro-grids (EPSG:4547 x/y)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["source", "source_id", "type", "occurred_at", "x", "y", "description"])
        for n in ids:
            x = X0 + CELL * (n % 4) + 10 + (n * 7) % 80
            y = Y0 + CELL * ((n // 4) % 4) + 10 + (n * 13) % 80
            out.writerow(["三零平台", f"I{n:04d}", "dispute", "2025-06-01 10:00", x, y, note])


def counts(engine: Engine) -> tuple[int, int, int]:
    """Incidents stored, distinct keys among them, and import runs logged."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT (region, source, source_id)), "
                "(SELECT count(*) FROM import_runs WHERE kind = 'incidents') FROM incidents"
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


@pytest.fixture(scope="module")
def private() -> Iterator[tuple[PrivateCluster, Settings]]:
    """A private PostgreSQL with the hand-made district of test_maps, risk computed."""
    if not available():
        pytest.skip("needs the PostgreSQL 15 server binaries (/usr/lib/postgresql/15/bin)")
    cluster = PrivateCluster()
    try:
        cluster.start()
        settings = settings_for(cluster.url("gridsafe"), "faults", import_batch_rows=BATCH)
        ensure_database(settings)
        owner = make_engine(settings.db, owner=True)
        init_db(owner, settings)
        owner.dispose()
        engine = make_engine(settings.db)
        build_district(engine, settings)
        engine.dispose()
        yield cluster, settings
    finally:
        cluster.remove()


@pytest.fixture
def private_db(private: tuple[PrivateCluster, Settings]) -> Iterator[Engine]:
    """An engine on the private cluster, up at the start; incidents and their log emptied after.

    The cluster's superuser's: it stalls inserts with a trigger of its own, empties tables and
    sees what every session waits for, which the app's login (the command line and the API
    under test) may not.
    """
    cluster, settings = private
    if not cluster.running():
        cluster.start()
    engine = create_engine(settings.db.admin_database_url, pool_pre_ping=True)
    yield engine
    if not cluster.running():
        cluster.start()
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS gridsafe_test_stall ON incidents"))
        conn.execute(text("TRUNCATE incidents, import_runs CASCADE"))
    engine.dispose()


def stall_inserts(engine: Engine, source_id: str) -> None:
    """Make the insert of ``source_id`` sleep (a trigger), to hold an import mid-transaction."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION gridsafe_test_stall() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.source_id = TG_ARGV[0] THEN PERFORM pg_sleep({STALL_S}); END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER gridsafe_test_stall BEFORE INSERT ON incidents FOR EACH ROW "
                f"EXECUTE FUNCTION gridsafe_test_stall('{source_id}')"
            )
        )


def unstall(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS gridsafe_test_stall ON incidents"))


def sleeping(engine: Engine) -> int:
    """How many backends sleep in ``pg_sleep`` (a stalled insert or a slow test query)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
            ).scalar_one()
        )


def wait_for_stall(engine: Engine, proc: subprocess.Popen[str], timeout_s: float = 90) -> None:
    """Wait until a backend sleeps in the trigger (the import is past its first batches)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if sleeping(engine):
            return
        time.sleep(0.2)
    pytest.fail("the import never reached the stalled row")


def start_cli_import(settings: Settings, path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "GRIDSAFE_DATABASE_URL": settings.db.database_url,
        "GRIDSAFE_IMPORT_BATCH_ROWS": str(BATCH),
    }
    return subprocess.Popen(
        [str(GRIDSAFE), "import", "incidents", str(path), "--crs", "EPSG:4547"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_complete(engine: Engine, settings: Settings, path: Path) -> ImportReport:
    """Import ``path`` again: it completes, and the database holds what the report says."""
    report = import_records(engine, settings, path, kind="incidents", crs="EPSG:4547")
    assert (report.inserted, report.loaded, report.rejected) == (ROWS, ROWS, [])
    assert counts(engine) == (ROWS, ROWS, 1)
    return report


def test_database_restart_during_an_import_fails_it_cleanly(
    private: tuple[PrivateCluster, Settings], private_db: Engine, tmp_path: Path
) -> None:
    cluster, settings = private
    path = tmp_path / "incidents.csv"
    write_incidents(path, range(ROWS))
    stall_inserts(private_db, STALL_AT)
    proc = start_cli_import(settings, path)
    try:
        wait_for_stall(private_db, proc)
        cluster.stop()
        cluster.start()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "lost the database during this step" in err
    assert "nothing of the step was written" in err
    assert "Traceback" not in err
    private_db.dispose()  # its connections died with the server
    unstall(private_db)
    assert counts(private_db) == (0, 0, 0)
    assert_complete(private_db, settings, path)


def test_ctrl_c_stops_an_import_with_nothing_written(
    private: tuple[PrivateCluster, Settings], private_db: Engine, tmp_path: Path
) -> None:
    _, settings = private
    path = tmp_path / "incidents.csv"
    write_incidents(path, range(ROWS))
    stall_inserts(private_db, STALL_AT)
    proc = start_cli_import(settings, path)
    try:
        wait_for_stall(private_db, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "interrupted: the step under way was rolled back" in err
    assert "Traceback" not in err
    unstall(private_db)
    assert counts(private_db) == (0, 0, 0)
    assert sleeping(private_db) == 0  # the interrupted import left no session behind
    assert_complete(private_db, settings, path)


def test_pages_and_api_answer_503_while_the_database_is_down_then_recover(
    private: tuple[PrivateCluster, Settings], private_db: Engine
) -> None:
    cluster, settings = private
    with client_for(settings) as client:
        for path in PATHS:
            assert client.get(path).status_code == 200, path
        cluster.stop()
        try:
            for path in PATHS:
                response = client.get(path)
                assert response.status_code == 503, path
                assert response.headers["retry-after"] == str(settings.db.retry_after_s), path
                assert "unavailable" in response.json()["detail"], path
        finally:
            cluster.start()
        # The same app, not restarted: the pool drops the dead connections and makes new ones.
        for path in PATHS:
            assert client.get(path).status_code == 200, path


def test_a_request_whose_query_the_restart_cuts_gets_503_then_the_app_recovers(
    private: tuple[PrivateCluster, Settings], private_db: Engine
) -> None:
    cluster, settings = private
    app = create_app(settings)

    def slow(engine: EngineDep) -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": STALL_S})
        return {"status": "done"}

    app.add_api_route("/test/slow", slow)
    with client_for(settings, app) as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/api/areas").status_code == 200
        cut = pool.submit(client.get, "/test/slow")
        deadline = time.monotonic() + 30
        while not sleeping(private_db):
            assert time.monotonic() < deadline, "the slow query never started"
            time.sleep(0.05)
        cluster.stop()
        cluster.start()
        response = cut.result(timeout=30)
        assert response.status_code == 503
        assert response.headers["retry-after"] == str(settings.db.retry_after_s)
        for path in PATHS:
            assert client.get(path).status_code == 200, path


def test_a_restart_between_requests_is_not_seen_by_clients(
    private: tuple[PrivateCluster, Settings], private_db: Engine
) -> None:
    cluster, settings = private
    with client_for(settings) as client:
        for path in PATHS:  # the pool now holds open connections to the old server
            assert client.get(path).status_code == 200, path
        cluster.stop()
        cluster.start()
        for path in PATHS:  # the checkout finds them closed and reconnects before the query
            assert client.get(path).status_code == 200, path


def test_two_imports_of_overlapping_files_at_once(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    build_district(db, db_settings)
    settings = db_settings.replace(import_batch_rows=BATCH)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_incidents(first, range(600))  # I0000-I0599
    write_incidents(second, range(400, ROWS))  # I0400-I0999: 200 ids in both
    start = threading.Barrier(2)
    reports: dict[str, ImportReport] = {}
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        start.wait()
        try:
            reports[path.name] = import_records(
                db, settings, path, kind="incidents", crs="EPSG:4547"
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    a, b = reports["first.csv"], reports["second.csv"]
    assert (a.loaded, b.loaded) == (600, 600)
    # Whichever went first inserted its 600; the other found the 200 shared ids stored, with
    # the same content, and left them alone.
    assert a.inserted + b.inserted == ROWS
    assert a.unchanged + b.unchanged == 200
    assert a.updated == b.updated == 0
    assert counts(db) == (ROWS, ROWS, 2)


def test_a_post_during_an_import_gets_a_quick_503_then_succeeds(
    db: Engine, db_settings: Settings
) -> None:
    build_district(db, db_settings)
    settings = db_settings.replace(submit_wait_s=0.5)
    record = {
        "source": "三零平台",
        "source_id": "P1",
        "type": "dispute",
        "occurred_at": "2025-06-01 10:00",
        "x": X0 + 50,
        "y": Y0 + 50,
        "crs": "EPSG:4547",
    }
    key = {"key": write_lock_key(settings.region, "incidents")}
    with client_for(settings) as client:
        with db.begin() as importing:  # stands for a file import that is writing
            importing.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), key)
            started = time.monotonic()
            refused = client.post("/api/incidents", json=record)
            waited = time.monotonic() - started
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == str(settings.db.retry_after_s)
        assert "another import of incidents is writing" in refused.json()["detail"]
        assert 0.5 <= waited < 5
        assert counts(db) == (0, 0, 0)
        assert client.post("/api/incidents", json=record).status_code == 200
    assert counts(db) == (1, 1, 1)


UPLOAD_SCRIPT = """
import json, resource, signal, sys
from tests.test_faults import client_for
from geo.settings import Settings

size, limit = int(sys.argv[1]), int(sys.argv[2])
client = client_for(Settings())
# Past the limit a write fails with EFBIG instead of killing the process (SIGXFSZ ignored),
# as a full disk fails it with ENOSPC.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
body = b'{"type": "FeatureCollection", "features": [], "pad": "' + b"x" * size + b'"}'
with client:
    r = client.post(
        "/api/admin/boundaries",
        files={"file": ("big.geojson", body, "application/geo+json")},
        data={"level": "subdistrict", "crs": "EPSG:4547"},
    )
print(json.dumps({"status": r.status_code, "body": r.json(), "headers": dict(r.headers)}))
"""


@pytest.mark.parametrize(
    ("size", "where"),
    [
        (600_000, "gridsafe's copy (Starlette kept the part in memory)"),
        (1_500_000, "Starlette's spool file (parts over 1 MB go to disk)"),
    ],
)
def test_an_upload_the_disk_refuses_gets_a_clear_error_and_leaves_nothing(
    db: Engine, db_settings: Settings, tmp_path: Path, size: int, where: str
) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {**os.environ, "GRIDSAFE_DATABASE_URL": db_settings.db.database_url, "TMPDIR": str(spool)}
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD_SCRIPT, str(size), str(256 * 1024)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 507, (where, answer)
    detail = answer["body"]["detail"]
    assert "could not store the upload" in detail, detail
    assert "larger than the server may write" in detail, detail
    assert "nothing was written" in detail, detail
    assert list(spool.iterdir()) == [], where  # no partial file left behind
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM import_runs")).scalar() == 0


def test_an_upload_without_permission_to_write_gets_a_clear_error(
    db: Engine, db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write anywhere, so the refusal a service account meets is raised by hand.
    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refused)
    with client_for(db_settings) as client:
        response = client.post(
            "/api/admin/boundaries",
            files={"file": ("s.geojson", b'{"type": "FeatureCollection", "features": []}')},
            data={"level": "subdistrict"},
        )
    assert response.status_code == 507
    assert response.json()["detail"] == (
        "could not store the upload 's.geojson': the server may not write its temporary files "
        "(Permission denied); nothing was written"
    )
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM import_runs")).scalar() == 0
