"""The schema keeps the distribution rules of a Citus cluster (tests/distribution.py), and each
rule fails on a violation planted on purpose."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from geo.database import make_engine
from geo.settings import Settings
from tests.distribution import (
    foreign_key_violations,
    join_violations,
    key_violations,
    prepare,
    region_tables,
    sql_files,
    sql_violations,
)
from tests.partitions import PARTITIONED


def test_every_key_and_foreign_key_of_a_region_table_has_region(db: Engine) -> None:
    with db.connect() as conn:
        region = region_tables(conn)
        assert key_violations(conn) == []
        assert foreign_key_violations(conn) == []
    # Every table of the activity is a region table, the audit log and case events too.
    assert set(PARTITIONED) | {"areas", "route_plans", "route_stops", "route_legs"} <= region


def test_the_big_tables_are_partitioned_by_region_with_a_default(db: Engine) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, p.partstrat, a.attname, "
                "EXISTS (SELECT FROM pg_inherits i JOIN pg_class d ON d.oid = i.inhrelid "
                "        WHERE i.inhparent = c.oid AND d.relname = c.relname || '_default' "
                "        AND pg_get_expr(d.relpartbound, d.oid) = 'DEFAULT') "
                "FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] "
                "WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition"
            )
        ).all()
        months = conn.execute(
            text(
                "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
                "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                "WHERE p.partrelid = 'fixes_default'::regclass"
            )
        ).one()
    assert {r[0] for r in rows} == set(PARTITIONED)
    assert all(r[1:] == ("l", "region", True) for r in rows), rows
    # fixes keep their months below each region's partition.
    assert tuple(months) == ("r", "t")


def test_every_join_of_region_tables_in_the_sql_equates_region(db: Engine) -> None:
    with db.connect() as conn:
        region = region_tables(conn)
    assert len(sql_files()) > 100
    assert sql_violations(region) == []


@pytest.fixture
def planted(db_settings: Settings) -> Iterator[Connection]:
    """A schema of the owner's, dropped after the test, holding what the rules must refuse."""
    owner = make_engine(db_settings.db, owner=True)
    with owner.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS planted CASCADE; CREATE SCHEMA planted"))
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text("DROP SCHEMA planted CASCADE"))
            conn.commit()
    owner.dispose()


def test_a_key_without_region_is_refused(planted: Connection) -> None:
    planted.execute(
        text(
            "CREATE TABLE planted.things (id bigint PRIMARY KEY, region text NOT NULL, "
            "  code text, UNIQUE (region, code));"
            "CREATE TABLE planted.labels (code text PRIMARY KEY);"  # no region: a vocabulary
            "CREATE TABLE planted.marks (region text, name text);"
            "CREATE UNIQUE INDEX marks_name ON planted.marks (name);"
        )
    )
    found = {(v.where, v.what) for v in key_violations(planted, "planted")}
    assert found == {
        ("things", "unique key things_pkey leaves region out"),
        ("marks", "unique key marks_name leaves region out"),
    }


def test_a_foreign_key_without_region_is_refused(planted: Connection) -> None:
    planted.execute(
        text(
            "CREATE TABLE planted.things (region text, id text, PRIMARY KEY (region, id));"
            "CREATE UNIQUE INDEX things_id ON planted.things (id);"
            "CREATE TABLE planted.parts (region text, id text, thing text, "
            "  PRIMARY KEY (region, id),"
            "  CONSTRAINT by_region FOREIGN KEY (region, thing) REFERENCES planted.things,"
            "  CONSTRAINT crossed FOREIGN KEY (thing, region) "
            "    REFERENCES planted.things (region, id),"
            "  CONSTRAINT loose FOREIGN KEY (thing) REFERENCES planted.things (id))"
        )
    )
    found = {v.what for v in foreign_key_violations(planted, "planted")}
    # "crossed" names region on both sides but pairs it with id: refused too.
    assert found == {
        "crossed references things without region",
        "loose references things without region",
    }


REGION = {"incidents", "cases", "areas", "case_events"}


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        ("SELECT * FROM cases c JOIN incidents i ON i.id = c.incident_id", 1),
        (
            "SELECT * FROM cases c JOIN incidents i ON i.region = c.region "
            "AND i.id = c.incident_id",
            0,
        ),
        # Both pinned to one value: a single-region query.
        (
            "SELECT * FROM cases c JOIN incidents i ON i.id = c.incident_id "
            "WHERE c.region = :region AND i.region = :region",
            0,
        ),
        (
            "SELECT * FROM cases c JOIN incidents i ON i.id = c.incident_id "
            "WHERE c.region = :a AND i.region = :b",
            1,
        ),
        # A chain of equalities joins the three.
        (
            "SELECT * FROM cases c JOIN incidents i ON i.region = c.region "
            "AND i.id = c.incident_id "
            "JOIN areas a ON a.region = i.region AND a.code = i.area_code",
            0,
        ),
        (
            "SELECT * FROM cases c JOIN incidents i ON i.region = c.region "
            "AND i.id = c.incident_id "
            "JOIN areas a ON a.code = i.area_code",
            2,
        ),
        # A correlated subquery joins with the outer query.
        (
            "SELECT c.id, (SELECT max(e.at) FROM case_events e WHERE e.case_id = c.id) "
            "FROM cases c",
            1,
        ),
        (
            "SELECT c.id, (SELECT max(e.at) FROM case_events e "
            "WHERE e.region = c.region AND e.case_id = c.id) FROM cases c",
            0,
        ),
        ("UPDATE incidents i SET area_code = a.code FROM areas a WHERE a.code = i.area_code", 1),
        (
            "DELETE FROM cases c USING incidents i "
            "WHERE i.id = c.incident_id AND i.region = c.region",
            0,
        ),
        # A common table expression is no table: checked where its own tables are joined.
        (
            "WITH x AS (SELECT i.id FROM incidents i JOIN areas a ON a.code = i.area_code) "
            "SELECT * FROM x JOIN cases c ON c.incident_id = x.id",
            1,
        ),
    ],
)
def test_a_join_without_region_is_refused(statement: str, refused: int) -> None:
    found = join_violations(prepare(statement), "planted", REGION)
    assert len(found) == refused, found


def test_a_template_is_checked_with_its_table() -> None:
    """{table} of a record kind's template is a region table; a planted join in one is found."""
    template = (
        "SELECT t.id FROM {table} t JOIN cases c ON c.incident_id = t.id "
        "WHERE t.{time} > :start {filters}"
    )
    found = join_violations(prepare(template), "planted", REGION)
    assert [v.what for v in found] == [
        "cases c and incidents t are joined without a region equality"
    ]
