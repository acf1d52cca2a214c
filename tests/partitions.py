"""What the region partition tests compare and clean up: every table's rows (a count and a
checksum), the identity sequences, and a region's partitions dropped after a test."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, text

PARTITIONED = (
    "audit_log",
    "case_events",
    "cases",
    "checkins",
    "coverage_cache",
    "fixes",
    "hazards",
    "incidents",
)
"""The big tables, partitioned by LIST (region) (migration t0017), in name order."""


def tables(conn: Connection) -> list[str]:
    """Every table of the schema (a partitioned one once), PostGIS's and Alembic's aside."""
    return list(
        conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind IN ('r', 'p') AND NOT relispartition "
                "AND relname NOT IN ('spatial_ref_sys', 'alembic_version') ORDER BY 1"
            )
        ).scalars()
    )


def fingerprint(
    conn: Connection, *, without_region: Collection[str] = ()
) -> dict[str, tuple[int, str]]:
    """Per table: its row count and the md5 of its rows in a fixed order (byte order: a
    locale's collation would only be slower), each row as PostgreSQL prints it (a geometry as
    its hex EWKB: exact, and cheaper than GeoJSON); the tables in ``without_region`` as JSON
    without their region column."""
    found = {}
    for table in tables(conn):
        row = "(to_jsonb(t) - 'region')::text" if table in without_region else "t::text"
        found[table] = tuple(
            conn.execute(
                text(
                    "SELECT count(*), "
                    """coalesce(md5(string_agg(r, '' ORDER BY r COLLATE "C")), '') """
                    f'FROM (SELECT {row} AS r FROM "{table}" t) x'
                )
            ).one()
        )
    return found


def sequences(conn: Connection) -> dict[str, int]:
    """Per identity column: its sequence's next value, without using it."""
    rows = conn.execute(
        text(
            "SELECT c.relname || '.' || a.attname, pg_get_serial_sequence(c.relname, a.attname) "
            "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition AND a.attidentity <> ''"
        )
    ).all()
    found = {}
    for column, seq in rows:
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
        found[column] = int(last) + (1 if called else 0)
    return found


def drop_region_partitions(conn: Connection, region: str) -> None:
    """Drop ``region``'s partitions (their rows with them), as the schema's owner."""
    parts = conn.execute(
        text(
            "SELECT quote_ident(p.relname), quote_ident(c.relname), EXISTS (SELECT FROM "
            "pg_constraint k WHERE k.contype = 'f' AND k.confrelid = p.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE NOT p.relispartition AND c.relname = region_partition_name(p.relname, :r)"
        ),
        {"r": region},
    ).all()
    # A partition cannot be detached while rows of another table refer to its rows: those
    # go first (the foreign keys cascade).
    for _, part, referenced in parts:
        if referenced:
            conn.execute(text(f"DELETE FROM {part}"))
    for parent, part, _ in parts:
        conn.execute(text(f"ALTER TABLE {parent} DETACH PARTITION {part}"))
    for _, part, _ in parts:
        conn.execute(text(f"DROP TABLE {part}"))
