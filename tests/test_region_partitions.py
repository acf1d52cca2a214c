"""Migration t0017 converts a loaded database in place keeping every row, and a new region gets
partitions of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from geo.database import (
    drop_database,
    ensure_database,
    init_db,
    make_engine,
    partition_region,
    scratch_settings,
)
from geo.settings import Settings
from tests.frozen import DEMO_LOADED
from tests.partitions import drop_region_partitions, fingerprint, sequences

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = "geo/migrations/versions/0017_region_partitions.py"
# Columns the migration adds: left out of the checksums (they did not exist before).
ADDED = {"audit_log", "case_events", "route_stops", "route_legs"}

# Loads the demo district with the code of before the migration, thinned where the time goes
# and every table still gets rows: its patrols a fix every 10 minutes (a tenth of the demo's),
# a share of 1 % of the intake-channel incidents made cases (the demo's 3.5 % took 30 s), and the
# covers of the last day's closed shifts stored (the demo's week took 45 s).
LOAD = """
import sys
from datetime import datetime
import demo.cases
import demo.load
from geo.coverage.periods import last_days
from geo.settings import Settings
demo.load.PATROL_INTERVAL_S = 600.0
demo.cases.SHARE = 0.01
demo.load.last_days = lambda end, days: last_days(end, 1)
demo.load.load_demo(Settings(), now=datetime.fromisoformat(sys.argv[1]), say=lambda line: None)
"""


def _code_before(tmp_path: Path) -> Path:
    """The project as it was before migration t0017 (the parent of the commit adding it; the
    working tree's commit when it is not committed yet), unpacked into ``tmp_path``."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", MIGRATION],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    commit = f"{added[-1]}^" if added else "HEAD"
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    assert not (tmp_path / MIGRATION).exists()
    return tmp_path


@pytest.mark.timeout(1200)
@pytest.mark.demo  # loads a demo district of its own: not in the fast subset
def test_the_migration_keeps_every_row_of_the_demo(
    run_id: str, run_logins: Settings, tmp_path: Path
) -> None:
    """The demo district loaded at m0016 by the code of then, upgraded to t0017: every table
    keeps the same rows (count and checksum), identities continue, new regions are right."""
    settings = scratch_settings(f"gridsafe_premigration_{run_id}", run_id)
    before_code = _code_before(tmp_path)
    try:
        ensure_database(settings)
        env = {
            **os.environ,
            "PYTHONPATH": str(before_code),
            "GRIDSAFE_DATABASE_URL": settings.db.database_url,
            "GRIDSAFE_OWNER_DATABASE_URL": settings.db.owner_database_url,
            "GRIDSAFE_ADMIN_DATABASE_URL": str(settings.db.admin_database_url),
        }
        subprocess.run(
            [sys.executable, "-c", LOAD, DEMO_LOADED.local.isoformat()],
            env=env,
            cwd=tmp_path,
            check=True,
            timeout=1100,
        )
        admin = create_engine(str(settings.db.admin_database_url))
        with admin.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                "m0016"
            )
            before, identities = fingerprint(conn, without_region=ADDED), sequences(conn)
        owner = make_engine(settings.db, owner=True)
        init_db(owner, settings, revision="t0017")
        owner.dispose()
        with admin.connect() as conn:
            after, continued = fingerprint(conn, without_region=ADDED), sequences(conn)
            strays = {
                table: conn.execute(
                    text(
                        f"SELECT count(*) FROM {table} x JOIN {parent} p ON p.id = x.{key} "
                        "WHERE x.region IS DISTINCT FROM p.region"
                    )
                ).scalar()
                for table, parent, key in (
                    ("case_events", "cases", "case_id"),
                    ("route_stops", "route_plans", "plan_id"),
                    ("route_legs", "route_plans", "plan_id"),
                )
            }
            partitioned = conn.execute(
                text("SELECT count(*) FROM pg_partitioned_table WHERE partstrat = 'l'")
            ).scalar()
        admin.dispose()
    finally:
        drop_database(settings.db)
    assert partitioned == 8
    # The demo fills every big table.
    for table in (
        "incidents",
        "hazards",
        "fixes",
        "checkins",
        "coverage_cache",
        "cases",
        "case_events",
        "audit_log",
    ):
        assert before[table][0] > 0, table
    assert after == before
    assert continued == identities
    assert strays == {"case_events": 0, "route_stops": 0, "route_legs": 0}


def test_a_new_region_gets_its_own_partitions(db: Engine, db_settings: Settings) -> None:
    """``gridsafe db partition``: one partition per big table (fixes with its months), nothing
    to move; rows of the region land there. tests/test_region_move.py moves a loaded one."""
    region = "Region 7/新区"
    owner = make_engine(db_settings.db, owner=True)
    try:
        with owner.begin() as conn:
            conn.execute(text("SELECT fixes_partition('2026-11-15T00:00:00Z')"))
        made = partition_region(db_settings, region)
        assert partition_region(db_settings, region) == []  # safe to repeat
        with db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO fixes (region, unit, unit_kind, t, geom) VALUES "
                    "(:r, 'u1', 'foot', '2026-11-15T03:00:00Z', "
                    "ST_SetSRID(ST_MakePoint(500000, 3800000), 4547))"
                ),
                {"r": region},
            )
            placed = conn.execute(text("SELECT tableoid::regclass::text FROM fixes")).scalar()
        with owner.begin() as conn:
            # The new region's partitions are reached through their parents only.
            granted = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) x "
                    "WHERE c.relname = ANY(:made) AND x.grantee <> c.relowner"
                ),
                {"made": [p.partition for p in made]},
            ).scalar()
            month = conn.execute(text("SELECT fixes_partition('2026-12-15T00:00:00Z')")).scalar()
    finally:
        with owner.begin() as conn:
            drop_region_partitions(conn, region)
        owner.dispose()
    assert len(made) == 8
    assert all(p.partition.startswith(f"{p.table}_r_region_7_") for p in made)
    assert [p.moved for p in made] == [0] * 8
    assert placed is not None
    assert placed.startswith("fixes_r_region_7_")
    assert placed.endswith("_p202611")
    assert granted == 0
    assert month is not None
    assert "fixes_default_p202612" in month
