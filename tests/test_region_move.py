"""``gridsafe db partition REGION`` for a loaded region (migration r0018): its rows move out of
the default partitions into its own, every row, key, id and sequence as it was.

Two regions share the default partitions, each with the hand-made hierarchy of
tests/test_cases.py (S > G > T1 > M1, T2 > M2) and something in every partitioned table,
written through the app's own paths: incidents in M1 and M2, a case walked through its states
(case events), a hazard, patrol fixes either side of a UTC month's end (two months of fixes),
the covers of that day's shifts, check-ins, and the audit log's entries of all of it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError

from geo.cases import State
from geo.coverage.checkins import import_checkin_records
from geo.coverage.covered import refresh
from geo.coverage.periods import day_of
from geo.coverage.tracks import import_track_records
from geo.database import RegionPartition, acting_as, make_engine, partition_region
from geo.records import import_records
from geo.settings import Settings
from tests.clients import gridsafe
from tests.partitions import PARTITIONED, drop_region_partitions, fingerprint, sequences
from tests.test_cases import PATHS, T0, X0, Y0, add_incident, place_grid, run_case

MOVED = "Move 1/迁区"
STAYS = "move-stays"
# A UTC month ends during the patrol: its fixes fall in two month partitions.
MONTH_END = datetime(2026, 11, 1, tzinfo=UTC)


def _load(db: Engine, settings: Settings, tmp_path: Path) -> None:
    """Something of the region in every partitioned table, through the app's paths."""
    place_grid(db, settings)
    ids = [
        add_incident(db, settings, micro=micro, kind=kind, at=T0)
        for micro, kind in (("M1", "dispute"), ("M1", "fire"), ("M1", "dispute"), ("M2", "dispute"))
    ]
    run_case(db, settings, ids[1], T0, PATHS[State.HANDLING])
    run_case(db, settings, ids[3], T0, PATHS[State.VERIFIED])
    hazards = tmp_path / f"hazards-{settings.region.replace('/', '-')}.csv"
    hazards.write_text(
        "source,source_id,category,name,method,l,e,c,status,identified_at,x,y\n"
        f"inspect,Z1,消防,堵塞通道,LEC,6,6,15,open,2026-03-01,{X0 + 50},{Y0 + 50}\n",
        encoding="utf-8",
    )
    assert import_records(db, settings, hazards, kind="hazards", crs="EPSG:4547").inserted == 1
    fixes = [
        {
            "unit": "P1",
            "kind": "foot",
            "time": (MONTH_END + timedelta(minutes=m)).isoformat(),
            "x": X0 + 20 + 2 * (m + 10),
            "y": Y0 + 50,
        }
        for m in range(-10, 10)
    ]
    assert import_track_records(db, settings, fixes, crs="EPSG:4547").rejected == []
    day = day_of(MONTH_END, settings)
    assert refresh(db, settings, period=day, now=day.end) > 0
    # One visit in M1, one in M2 an hour later.
    visits = [
        {"person": "张三", "time": (MONTH_END + timedelta(hours=h)).isoformat(), "x": x, "y": y}
        for h, (x, y) in enumerate(((X0 + 50, Y0 + 50), (X0 + 150, Y0 + 50)))
    ]
    assert import_checkin_records(db, settings, visits, crs="EPSG:4547").inserted == 2


def _placed(conn: Connection) -> dict[tuple[str, str, str], int]:
    """(table, region, the partition holding the row) -> rows, for both regions."""
    found = {}
    for table in PARTITIONED:
        for region, where, n in conn.execute(
            text(
                f"SELECT region, tableoid::regclass::text, count(*) FROM {table} "
                "WHERE region IN (:a, :b) GROUP BY 1, 2"
            ),
            {"a": MOVED, "b": STAYS},
        ):
            found[table, region, where] = n
    return found


def _shape(conn: Connection, partition: str) -> list[str]:
    """What a partition has from its parent (keys, foreign keys, checks, indexes, row
    triggers), its own triggers, grants and row-level security, named as on the parent."""
    return list(
        conn.execute(
            text(
                "SELECT 'constraint ' || p.conname FROM pg_constraint c "
                "JOIN pg_constraint p ON p.oid = c.conparentid "
                "WHERE c.conrelid = CAST(:t AS regclass) "
                "UNION ALL SELECT 'check ' || conname FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'c' "
                "UNION ALL SELECT 'index ' || p.relname FROM pg_index x "
                "JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE x.indrelid = CAST(:t AS regclass) "
                "UNION ALL SELECT 'trigger ' || tgname || ' ' || tgenabled::text FROM pg_trigger "
                "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal "
                "UNION ALL SELECT 'acl ' || coalesce(relacl::text, '') "
                "|| ' rls ' || relrowsecurity::text "
                "FROM pg_class WHERE oid = CAST(:t AS regclass) ORDER BY 1"
            ),
            {"t": partition},
        ).scalars()
    )


@pytest.fixture
def loaded(db: Engine, db_settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """Both regions in the default partitions; the moved one's partitions dropped after."""
    for region in (MOVED, STAYS):
        _load(db, db_settings.replace(region=region), tmp_path)
    yield db
    owner = make_engine(db_settings.db, owner=True)
    with owner.begin() as conn:
        drop_region_partitions(conn, MOVED)
    owner.dispose()


def test_a_loaded_region_moves_out_of_the_default_partitions(
    loaded: Engine, db_settings: Settings
) -> None:
    owner = make_engine(db_settings.db, owner=True)
    try:
        with owner.connect() as conn:
            before, identities, placed = fingerprint(conn), sequences(conn), _placed(conn)
        made = partition_region(db_settings, MOVED)
        with owner.connect() as conn:
            after, continued, moved = fingerprint(conn), sequences(conn), _placed(conn)
            shapes = {p.partition: _shape(conn, p.partition) for p in made}
            defaults = {p.partition: _shape(conn, f"{p.table}_default") for p in made}
        again = partition_region(db_settings, MOVED)
        with owner.connect() as conn:
            repeated = fingerprint(conn)
    finally:
        owner.dispose()

    # Every partitioned table held rows of both regions, all in its default partition.
    assert {(t, r) for t, r, _ in placed} == {(t, r) for t in PARTITIONED for r in (MOVED, STAYS)}
    assert all(where.startswith(f"{t}_default") for t, _, where in placed)
    count = Counter[tuple[str, str]]()
    for (table, region, _), n in placed.items():
        count[table, region] += n
    # One partition per table, its rows moved, referenced tables first.
    assert sorted(p.table for p in made) == list(PARTITIONED)
    assert {p.table: p.moved for p in made} == {t: count[t, MOVED] for t in PARTITIONED}
    order = [p.table for p in made]
    assert order.index("incidents") < order.index("cases") < order.index("case_events")
    # Not a row changed anywhere, no id, no sequence.
    assert after == before
    assert continued == identities
    # The moved region's rows are all in its partitions (fixes: two months below it), the
    # other region's all still in the default partitions.
    part = {p.table: p.partition for p in made}
    for (table, region, where), n in moved.items():
        if region == MOVED:
            assert where.startswith(part[table]), (table, where)
        else:
            assert where.startswith(f"{table}_default"), (table, where)
        assert n > 0
    assert {where for t, r, where in moved if t == "fixes" and r == MOVED} == {
        f"{part['fixes']}_p202610",
        f"{part['fixes']}_p202611",
    }
    assert sum(n for (t, r, _), n in moved.items() if r == STAYS) == sum(
        count[t, STAYS] for t in PARTITIONED
    )
    # Each new partition has what its default partition has: keys, foreign keys, indexes,
    # row triggers (the audit log's append-only guard enabled again), no grants.
    for p in made:
        assert shapes[p.partition] == defaults[p.partition], p.table
    assert "trigger audit_log_no_change O" in shapes[part["audit_log"]]
    # Run again: nothing to do, nothing changed.
    assert again == []
    assert repeated == before


def test_the_app_reads_the_moved_rows_through_row_level_security(
    loaded: Engine, db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved by the command line, which says what it moved per table."""

    def counts() -> dict[str, int]:
        with loaded.connect() as conn:
            return {
                t: conn.execute(
                    text(f"SELECT count(*) FROM {t} WHERE region = :r"), {"r": MOVED}
                ).scalar_one()
                for t in ("incidents", "cases", "case_events", "checkins", "fixes")
            }

    with acting_as("grid head", scope="T1"):
        scoped = counts()
    everything = counts()
    monkeypatch.setenv("COLUMNS", "400")  # the console wraps at 80 columns without a terminal
    done = gridsafe(db_settings, "db", "partition", MOVED, owner=True)
    assert done.returncode == 0, done.stderr
    *lines, total = done.stdout.splitlines()
    made = {line.split(":")[0]: line for line in lines}
    assert made["incidents"].startswith("incidents: 4 rows moved into incidents_r_move_1_")
    assert sorted(made) == list(PARTITIONED)
    assert total.startswith(f"region {MOVED}: 8 partitions created, ")
    with acting_as("grid head", scope="T1"):
        assert counts() == scoped
    assert counts() == everything
    # M1's three incidents of four, the case of one of them (the other's is in M2), one
    # visit of two.
    assert (scoped["incidents"], scoped["cases"], scoped["checkins"]) == (3, 1, 1)
    assert (everything["incidents"], everything["cases"], everything["checkins"]) == (4, 2, 2)
    # A partition is reached through its parent only.
    with loaded.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text(f'SELECT count(*) FROM "{made["incidents"].split()[-1]}"'))


def test_a_writer_of_another_region_is_waited_for_and_kept(
    loaded: Engine, db_settings: Settings
) -> None:
    """The move waits for a transaction writing another region's rows into the default
    partitions (docs/scaling.md's locks), which then commits and keeps them."""
    stays = db_settings.replace(region=STAYS)
    done: list[list[RegionPartition]] = []
    owner = make_engine(db_settings.db, owner=True)
    try:
        with loaded.connect() as writer:
            writer.execute(
                text(
                    "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                    "reported_at, geom, area_code, area_path) VALUES (:r, 'meanwhile', '1', "
                    "'dispute', :at, :at, ST_SetSRID(ST_MakePoint(:x, :y), 4547), 'M1', "
                    "ARRAY['S', 'G', 'T1', 'M1'])"
                ),
                {"r": stays.region, "at": T0, "x": X0 + 50, "y": Y0 + 50},
            )
            mover = threading.Thread(
                target=lambda: done.append(partition_region(db_settings, MOVED))
            )
            mover.start()
            waited = False
            deadline = time.monotonic() + 60  # the mover's seven other tables come first
            while time.monotonic() < deadline:
                with owner.connect() as conn:
                    waited = bool(
                        conn.execute(
                            text(
                                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE "
                                "wait_event_type = 'Lock' AND query LIKE '%region_partitions%' "
                                "AND pid <> pg_backend_pid())"
                            )
                        ).scalar()
                    )
                if waited or not mover.is_alive():
                    break
                time.sleep(0.05)
            writer.commit()
        mover.join(timeout=60)
        with owner.connect() as conn:
            kept = conn.execute(
                text(
                    "SELECT tableoid::regclass::text FROM incidents "
                    "WHERE region = :r AND source = 'meanwhile'"
                ),
                {"r": STAYS},
            ).scalar_one()
            left = conn.execute(
                text("SELECT count(*) FROM incidents_default WHERE region = :r"), {"r": MOVED}
            ).scalar_one()
    finally:
        owner.dispose()
    assert waited
    assert len(done) == 1
    assert {p.table: p.moved for p in done[0]}["incidents"] == 4
    assert kept == "incidents_default"
    assert left == 0
