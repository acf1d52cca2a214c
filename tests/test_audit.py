"""What the audit log keeps of a statement, by its size (migration a0011).

An INSERT of up to 50 rows is kept whole, above that its count and key range; an UPDATE or a
DELETE of up to 10,000 rows row by row (an UPDATE: the key and the changed columns), above that
the key range.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from geo.audit import audit_entries
from geo.locate import relocate
from geo.settings import Settings
from tests.districts import store_areas
from tests.test_records import ORIGIN, _box

AUDIT_CHANGED_ROWS = 10_000  # as in migration a0011


def _last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one())


def _entries_since(engine: Engine, last_id: int, entity: str) -> list[dict[str, Any]]:
    """The entries about ``entity`` written after ``last_id``, oldest first."""
    entries = audit_entries(engine, entity=entity, limit=1000)
    return sorted((e for e in entries if e["id"] > last_id), key=lambda e: e["id"])


def _insert_incidents(conn: Connection, settings: Settings, n: int) -> None:
    conn.execute(
        text(
            "INSERT INTO incidents (region, source, source_id, type, occurred_at, reported_at, "
            "description) SELECT :r, '110', 'bulk-' || g, 'dispute', now(), now(), 'desc-' || g "
            "FROM generate_series(1, :n) g"
        ),
        {"r": settings.region, "n": n},
    )


def _id_range(conn: Connection) -> dict[str, int]:
    low, high = conn.execute(text("SELECT min(id), max(id) FROM incidents")).one()
    return {"min": low, "max": high}


def test_a_bulk_insert_keeps_its_count_and_key_range(db: Engine, db_settings: Settings) -> None:
    mark = _last_id(db)
    with db.begin() as conn:
        _insert_incidents(conn, db_settings, 120)
        ids = _id_range(conn)
    (entry,) = _entries_since(db, mark, "incidents")
    assert (entry["action"], entry["rows"], entry["before"]) == ("INSERT", 120, None)
    assert entry["after"] == {"rows": 120, "keys": {"id": ids}}


def test_a_small_insert_keeps_its_rows(db: Engine, db_settings: Settings) -> None:
    mark = _last_id(db)
    with db.begin() as conn:
        _insert_incidents(conn, db_settings, 3)
    (entry,) = _entries_since(db, mark, "incidents")
    assert [r["description"] for r in entry["after"]] == ["desc-1", "desc-2", "desc-3"]


def test_a_delete_keeps_the_rows_it_deleted(db: Engine, db_settings: Settings) -> None:
    with db.begin() as conn:
        _insert_incidents(conn, db_settings, 300)
    mark = _last_id(db)
    with db.begin() as conn:
        conn.execute(text("DELETE FROM incidents WHERE source_id LIKE 'bulk-2__'"))  # 200-299
    (entry,) = _entries_since(db, mark, "incidents")
    assert (entry["action"], entry["rows"], entry["after"]) == ("DELETE", 100, None)
    assert sorted(r["description"] for r in entry["before"]) == [
        f"desc-{k}" for k in range(200, 300)
    ]
    assert all(r["type"] == "dispute" and r["source"] == "110" for r in entry["before"])


def test_an_update_keeps_each_rows_key_and_changed_columns(
    db: Engine, db_settings: Settings
) -> None:
    with db.begin() as conn:
        _insert_incidents(conn, db_settings, 250)
    mark = _last_id(db)
    with db.begin() as conn:
        changed: dict[int, str] = dict(
            conn.execute(
                text(
                    "UPDATE incidents SET description = 'moved ' || source_id "
                    "WHERE source_id <> 'bulk-7' RETURNING id, source_id"
                )
            ).all()
        )
    (entry,) = _entries_since(db, mark, "incidents")
    assert (entry["action"], entry["rows"]) == ("UPDATE", 249)
    assert [r["id"] for r in entry["before"]] == sorted(changed)
    assert [r["id"] for r in entry["after"]] == sorted(changed)
    for old, new in zip(entry["before"], entry["after"], strict=True):
        assert set(old) == set(new) == {"id", "description"}  # the key and what changed
        assert new["description"] == f"moved {changed[new['id']]}"
        assert old["description"] == changed[old["id"]].replace("bulk", "desc")


@pytest.mark.parametrize("action", ["UPDATE", "DELETE"])
def test_above_the_bound_the_key_range_is_kept(
    db: Engine, db_settings: Settings, action: str
) -> None:
    with db.begin() as conn:
        _insert_incidents(conn, db_settings, AUDIT_CHANGED_ROWS + 1)
        ids = _id_range(conn)
    mark = _last_id(db)
    statement = {
        "UPDATE": "UPDATE incidents SET description = 'x'",
        "DELETE": "DELETE FROM incidents",
    }[action]
    with db.begin() as conn:
        conn.execute(text(statement))
    (entry,) = _entries_since(db, mark, "incidents")
    assert (entry["action"], entry["rows"]) == (action, AUDIT_CHANGED_ROWS + 1)
    summary = {"rows": AUDIT_CHANGED_ROWS + 1, "keys": {"id": ids}}
    assert entry["before"] == summary
    assert entry["after"] == (summary if action == "UPDATE" else None)


def test_a_statement_that_writes_nothing_leaves_no_entry(db: Engine) -> None:
    mark = _last_id(db)
    with db.begin() as conn:
        conn.execute(text("UPDATE incidents SET description = 'x' WHERE false"))
    assert _entries_since(db, mark, "incidents") == []


def test_secret_columns_never_reach_the_log(db: Engine) -> None:
    mark = _last_id(db)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, role, password_hash) "
                "SELECT 'u' || g, 'leader', 'hash-' || g FROM generate_series(1, 3) g"
            )
        )
        conn.execute(text("UPDATE users SET password_hash = 'new', display_name = 'U'"))
        conn.execute(text("DELETE FROM users"))
    entries = _entries_since(db, mark, "users")
    assert [e["action"] for e in entries] == ["INSERT", "UPDATE", "DELETE"]
    assert "password_hash" not in json.dumps(entries)
    assert {"id", "display_name"} == set(entries[1]["after"][0])


def test_a_reassignment_is_kept_record_by_record(db: Engine, db_settings: Settings) -> None:
    # Two 100 m micro-grids side by side (tests/test_records.py's M1 and M2) and 200 incidents in
    # M1 within 20 m of M2; the M1/M2 edge moves 20 m west, so all of them go to M2.
    areas: list[tuple[str, str, str | None, list[str], str]] = [
        ("S", "subdistrict", None, [], _box(0, 0, 200, 100))
    ] + [(code, "micro", "S", ["S"], _box(x, 0, 100, 100)) for code, x in (("M1", 0), ("M2", 100))]
    with db.begin() as conn:
        store_areas(conn, db_settings.region, areas)
        conn.execute(
            text(
                "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                "reported_at, geom, area_code, area_path) "
                "SELECT :r, '110', 'R' || g, 'dispute', now(), now(), "
                "ST_SetSRID(ST_Point(:x + 81 + (g % 18), :y + g * 0.4), 4547), "
                "'M1', ARRAY['S', 'M1'] FROM generate_series(1, 200) g"
            ),
            {"r": db_settings.region, "x": ORIGIN[0], "y": ORIGIN[1]},
        )
        conn.execute(
            text("UPDATE areas SET geom = ST_GeomFromText(:w, 4547) WHERE code = :c"),
            [{"c": "M1", "w": _box(0, 0, 80, 100)}, {"c": "M2", "w": _box(80, 0, 120, 100)}],
        )
        ids = conn.execute(text("SELECT id FROM incidents ORDER BY id")).scalars().all()
    mark = _last_id(db)
    assert relocate(db, db_settings).incidents == 200
    (entry,) = (e for e in _entries_since(db, mark, "incidents") if e["action"] == "UPDATE")
    assert entry["rows"] == 200
    assert [r["id"] for r in entry["before"]] == [r["id"] for r in entry["after"]] == ids
    for old, new in zip(entry["before"], entry["after"], strict=True):
        assert set(old) == set(new) == {"id", "area_code", "area_path", "updated_at"}
        assert (old["area_code"], new["area_code"]) == ("M1", "M2")
        assert (old["area_path"], "M2" in new["area_path"]) == (["S", "M1"], True)
