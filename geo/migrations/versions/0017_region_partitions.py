"""Region leads every key, and the big tables are partitioned by region (in place).

The schema follows the distribution rules of a Citus cluster on one server (docs/scaling.md):

- ``region`` leads every primary and unique key of a region table (a table with a ``region``
  column). ``case_events``, ``route_stops`` and ``route_legs`` gain ``region`` (their case's
  or plan's) and ``audit_log`` gains it too (below), so they are region tables as well.
- every foreign key between region tables includes ``region`` on both sides.
- the big tables (``PARTITIONED``) are partitioned by LIST (region): a default partition
  ``{table}_default`` holds every region that has no partition of its own;
  ``region_partitions(region)`` gives a new region its own partition of each of them
  (``gridsafe db partition REGION``, before the region's data is loaded). ``fixes`` stays
  partitioned by month below its region partitions: ``fixes_partition(month)`` creates the
  month under every region partition (``{region partition}_pYYYYMM``).

An existing database is converted in place, table by table: the old table is renamed, the
partitioned one created like it, the rows copied (identity values kept, the sequence continued
from where it was), the old table dropped, and its keys, indexes, triggers (the audit triggers
among them: the copy itself is not audited), row-level security, policies and grants made again
on the new one under the same names. Partitions carry no grants: every query reaches them
through their parent, whose grants and policies apply (a grant on a partition would bypass the
parent's row-level security).

``audit_log.region``: the one region of the rows a statement wrote ('' when they span several
regions or the table has none: users, tokens, the vocabularies). Entries written before this
migration get it from the rows they kept, else ''.

Keys changed (``ON CONFLICT`` targets follow them): ``cases`` unique ``(incident_id)`` is now
``(region, incident_id)``; every primary key ``(id)`` of a region table is ``(region, id)``
(risk_scores: ``(region, run_id, area_code)``; route stops and legs: ``(region, plan_id,
unit_index, seq)``). The audit triggers keep passing the old key columns (``id`` stays unique
on its own: one sequence per table).

Revision ID: t0017
Revises: m0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op
from sqlalchemy import Connection, text

revision = "t0017"
down_revision = "m0016"
branch_labels = None
depends_on = None

APP = "gridsafe_app"
SCOPED = "gridsafe_scoped"

# The big tables, partitioned by LIST (region). fixes keeps its months below each region.
PARTITIONED = (
    "incidents",
    "hazards",
    "checkins",
    "coverage_cache",
    "cases",
    "case_events",
    "audit_log",
    "fixes",
)

# Tables that gain a region column, and the expression (over the old row ``o``) that fills it.
NEW_REGION = {
    "case_events": "(SELECT c.region FROM cases c WHERE c.id = o.case_id)",
    "route_stops": "(SELECT p.region FROM route_plans p WHERE p.id = o.plan_id)",
    "route_legs": "(SELECT p.region FROM route_plans p WHERE p.id = o.plan_id)",
    "audit_log": "audit_region(o.before, o.after)",
}

AUDIT_REGION = """
CREATE FUNCTION audit_region(before jsonb, after jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    -- The one region of the rows an entry kept, whole or as a key range; else ''.
    SELECT coalesce(
        (SELECT CASE WHEN count(DISTINCT r->>'region') = 1 AND count(r->>'region') = count(*)
                     THEN min(r->>'region') END
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(coalesce(after, before)) = 'array'
                                        THEN coalesce(after, before) ELSE '[]' END) r),
        (SELECT CASE WHEN k->>'min' = k->>'max' THEN k->>'min' END
         FROM (SELECT coalesce(after, before)->'keys'->'region' AS k) x),
        '')
$$;
"""

PARTITION_FUNCTIONS = f"""
CREATE FUNCTION region_partition_name(parent text, region text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    -- Readable and unique: the region's letters and digits, then a digest of the region.
    SELECT parent || '_r_'
           || left(trim(both '_' from regexp_replace(lower(region), '[^a-z0-9]+', '_', 'g')), 24)
           || '_' || left(md5(region), 6)
$$;

CREATE FUNCTION region_partitioned() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    -- The tables partitioned by LIST (region): partitioned, not a partition themselves.
    SELECT c.relname::text FROM pg_class c JOIN pg_partitioned_table p ON p.partrelid = c.oid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition
      AND p.partstrat = 'l'
      AND p.partattrs[0] = (SELECT attnum FROM pg_attribute
                            WHERE attrelid = c.oid AND attname = 'region')
    ORDER BY 1
$$;

CREATE FUNCTION partition_private(part text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Reached through the parent only: its grants and row-level security apply there.
    EXECUTE format('REVOKE ALL ON %I FROM PUBLIC, {APP}, {SCOPED}', part);
    IF part LIKE 'audit\\_log\\_%' THEN
        -- Statement triggers are not cloned to partitions: keep the log append-only.
        EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()', part);
    END IF;
END $$;

CREATE FUNCTION region_partitions(p_region text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    part text;
    sub record;
BEGIN
    IF coalesce(p_region, '') = '' THEN
        RAISE EXCEPTION 'region_partitions: name a region';
    END IF;
    FOR parent IN SELECT region_partitioned() LOOP
        part := region_partition_name(parent, p_region);
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('SELECT EXISTS (SELECT FROM %I WHERE region = $1)', parent || '_default')
            INTO STRICT sub USING p_region;
        IF sub.exists THEN
            RAISE EXCEPTION 'region % already has rows in %: give a region its partitions '
                            'before loading it', p_region, parent
                USING HINT = 'docs/scaling.md says how to move a loaded region';
        END IF;
        IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(parent || '_default')) = 'p'
        THEN
            -- Sub-partitioned (fixes by month): the new region gets the months the default has.
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L) '
                           'PARTITION BY RANGE (t)', part, parent, p_region);
            PERFORM partition_private(part);
            FOR sub IN SELECT substr(c.relname, length(parent || '_default') + 1) AS suffix,
                              pg_get_expr(c.relpartbound, c.oid) AS bound
                       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = to_regclass(parent || '_default')
            LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF %I %s',
                               part || sub.suffix, part, sub.bound);
                PERFORM partition_private(part || sub.suffix);
            END LOOP;
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)',
                           part, parent, p_region);
            PERFORM partition_private(part);
        END IF;
        RETURN NEXT part;
    END LOOP;
END $$;
COMMENT ON FUNCTION region_partitions(text) IS
    'Give a region its own partition of every table partitioned by region (before its data '
    'is loaded); the partitions created.';
REVOKE ALL ON FUNCTION region_partitions(text), partition_private(text) FROM PUBLIC;

DROP FUNCTION fixes_partition(timestamptz);
CREATE FUNCTION fixes_partition(month timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    suffix text := '_p' || to_char(first AT TIME ZONE 'UTC', 'YYYYMM');
    made text[] := '{{}}';
    region_part text;
BEGIN
    -- Partitions that exist are left alone without taking a lock on fixes.
    IF NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'fixes'::regclass
                     AND to_regclass(c.relname || suffix) IS NULL) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(4547004);
    FOR region_part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = 'fixes'::regclass ORDER BY c.relname
    LOOP
        CONTINUE WHEN to_regclass(region_part || suffix) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       region_part || suffix, region_part, first, first + interval '1 month');
        PERFORM partition_private(region_part || suffix);
        made := made || (region_part || suffix);
    END LOOP;
    RETURN nullif(array_to_string(made, ', '), '');
END $$;
COMMENT ON FUNCTION fixes_partition(timestamptz) IS
    'Create the partitions of fixes for the UTC calendar month of the argument, one under each '
    'region partition; their names, or null when they exist.';
REVOKE ALL ON FUNCTION fixes_partition(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fixes_partition(timestamptz) TO {APP};
"""


def _audit_changes() -> str:
    """a0011's ``audit_changes()``, now naming the statement's one region in its entry."""
    path = Path(__file__).with_name("0011_audit_bulk.py")
    spec = importlib.util.spec_from_file_location("gridsafe_migration_a0011", path)
    assert spec is not None  # noqa: S101 - the file is ours
    assert spec.loader is not None  # noqa: S101
    a0011 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(a0011)
    function = str(a0011.AUDIT_CHANGES)
    replaced = (
        ("    n bigint;\n", "    n bigint;\n    reg text := '';\n"),
        (
            "    IF n > 0 THEN\n",
            "    IF n > 0 AND EXISTS (SELECT FROM pg_attribute WHERE attrelid = TG_RELID\n"
            "                         AND attname = 'region' AND NOT attisdropped) THEN\n"
            "        EXECUTE 'SELECT CASE WHEN min(region) = max(region) THEN min(region) END '\n"
            "                'FROM ' || CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' "
            "END\n"
            "            INTO reg;\n"
            "        reg := coalesce(reg, '');\n"
            "    END IF;\n"
            "    IF n > 0 THEN\n",
        ),
        (
            "INSERT INTO audit_log (actor, action, entity, rows, before, after, txid)",
            "INSERT INTO audit_log (region, actor, action, entity, rows, before, after, txid)",
        ),
        ("                VALUES (\n", "                VALUES (reg,\n"),
    )
    for old, new in replaced:
        if function.count(old) != 1:
            msg = f"audit_changes() of a0011 no longer has {old!r} once"
            raise RuntimeError(msg)
        function = function.replace(old, new)
    return function


def _key_outside_scope(conn: Connection) -> str:
    """a0013's ``key_outside_scope()`` as it is, told its table by the partition's root: a
    trigger cloned onto a partition names the partition in ``TG_TABLE_NAME``."""
    function = str(
        conn.execute(text("SELECT pg_get_functiondef('key_outside_scope'::regproc)")).scalar()
    )
    replaced = (
        (
            "hidden boolean;",
            "hidden boolean;\n    root text := (SELECT relname FROM pg_class "
            "WHERE oid = pg_partition_root(TG_RELID));",
        ),
        ("TG_TABLE_NAME = 'checkins'", "root = 'checkins'"),
        ("TG_TABLE_NAME = 'incidents'", "root = 'incidents'"),
    )
    for old, new in replaced:
        if function.count(old) != 1:
            msg = f"key_outside_scope() of a0013 no longer has {old!r} once"
            raise RuntimeError(msg)
        function = function.replace(old, new)
    return function


def _rows(conn: Connection, query: str, **params: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(text(query), params)]


def _region_tables(conn: Connection) -> set[str]:
    return {
        str(r[0])
        for r in _rows(
            conn,
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition AND a.attname = 'region' AND NOT a.attisdropped",
        )
    }


def _policies(conn: Connection) -> list[tuple[str, str]]:
    """Every policy of the schema: (drop, create) statements."""
    out = []
    for name, table, cmd, permissive, roles, using, check in _rows(
        conn,
        "SELECT p.polname, c.relname, p.polcmd, p.polpermissive, "
        "ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(r::regrole::text) END "
        "      FROM unnest(p.polroles) r), "
        "pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) "
        "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "WHERE c.relnamespace = 'public'::regnamespace ORDER BY c.relname, p.polname",
    ):
        command = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}[str(cmd)]
        create = (
            f'CREATE POLICY "{name}" ON "{table}" AS '
            f"{'PERMISSIVE' if permissive else 'RESTRICTIVE'} FOR {command} "
            f"TO {', '.join(roles)}"  # type: ignore[arg-type]
        )
        if using is not None:
            create += f" USING ({using})"
        if check is not None:
            create += f" WITH CHECK ({check})"
        out.append((f'DROP POLICY "{name}" ON "{table}"', create))
    return out


def _loose_foreign_keys(conn: Connection, region: set[str]) -> list[tuple[str, str, str]]:
    """Foreign keys between region tables that leave region out: (table, name, new definition)."""
    out = []
    for table, name, cols, ref, refcols, deletes, deferrable in _rows(
        conn,
        "SELECT c.relname, k.conname, "
        "ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), "
        "r.relname, "
        "ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i), "
        "k.confdeltype, k.condeferrable "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_class r ON r.oid = k.confrelid "
        "WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace "
        "AND k.conparentid = 0",
    ):
        if table not in region or ref not in region or "region" in cols:  # type: ignore[operator]
            continue
        action = {
            "a": "",
            "r": " ON DELETE RESTRICT",
            "c": " ON DELETE CASCADE",
            "n": " ON DELETE SET NULL",
            "d": " ON DELETE SET DEFAULT",
        }[str(deletes)]
        definition = (
            f"FOREIGN KEY (region, {', '.join(cols)}) "  # type: ignore[arg-type]
            f"REFERENCES {ref} (region, {', '.join(refcols)}){action}"  # type: ignore[arg-type]
            + (" DEFERRABLE INITIALLY DEFERRED" if deferrable else "")
        )
        out.append((str(table), str(name), definition))
    return out


def _keys(conn: Connection, table: str) -> list[tuple[str, str, list[str], list[str]]]:
    """The primary and unique keys of ``table``: (name, 'PRIMARY KEY' or 'UNIQUE', its columns
    with region put first, its columns as they are)."""
    out = []
    for name, kind, cols in _rows(
        conn,
        "SELECT k.conname, k.contype, "
        "ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) "
        "FROM pg_constraint k WHERE k.conrelid = CAST(:t AS regclass) AND k.contype IN ('p', 'u') "
        "ORDER BY k.contype, k.conname",
        t=table,
    ):
        current = [str(c) for c in cols]  # type: ignore[attr-defined]
        columns = ["region"] + [c for c in current if c != "region"]
        out.append((str(name), "PRIMARY KEY" if kind == "p" else "UNIQUE", columns, current))
    return out


def _lead_with_region(conn: Connection, table: str) -> None:
    """Put region first in every primary and unique key of an unpartitioned table."""
    for name, kind, columns, current in _keys(conn, table):
        if current == columns:
            continue
        op.execute(
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}", '
            f'ADD CONSTRAINT "{name}" {kind} ({", ".join(columns)})'
        )


def _add_region(table: str) -> None:
    """Give an unpartitioned table its region column, filled from its parent row (unaudited)."""
    op.execute(f'ALTER TABLE "{table}" ADD COLUMN region text')
    op.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    op.execute(f'UPDATE "{table}" o SET region = {NEW_REGION[table]}')
    op.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    op.execute(f'ALTER TABLE "{table}" ALTER COLUMN region SET NOT NULL')


def _grants(conn: Connection, relation: str) -> list[str]:
    """GRANT statements giving others what they have on ``relation`` now (the owner aside)."""
    return [
        f"GRANT {priv} ON {'SEQUENCE ' if kind == 'S' else ''}{relation} TO {grantee}"
        for kind, priv, grantee in _rows(
            conn,
            "SELECT c.relkind, string_agg(x.privilege_type, ', '), "
            "CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(x.grantee::regrole::text) END "
            "FROM pg_class c, aclexplode(c.relacl) x "
            "WHERE c.oid = CAST(:r AS regclass) AND x.grantee <> c.relowner "
            "GROUP BY c.relkind, x.grantee ORDER BY 3",
            r=relation,
        )
    ]


def _rebuild(conn: Connection, table: str) -> list[str]:
    """What makes the table again once its rows are copied: its keys (region first), indexes,
    triggers, row-level security, comment and grants, as statements."""
    statements = [
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {kind} ({", ".join(key)})'
        for name, kind, key, _ in _keys(conn, table)
    ]
    statements += [
        str(r[0]).replace(" ON ONLY ", " ON ")  # an index of a partitioned table
        for r in _rows(
            conn,
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
            "(SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1",
            t=table,
        )
    ]
    statements += [
        str(r[0])
        for r in _rows(
            conn,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY tgname",
            t=table,
        )
    ]
    statements += [
        str(r[0])
        for r in _rows(
            conn,
            "SELECT s FROM pg_class c, LATERAL (VALUES "
            "  (1, CASE WHEN c.relrowsecurity THEN format('ALTER TABLE %I ENABLE ROW LEVEL "
            "SECURITY', c.relname) END), "
            "  (2, CASE WHEN c.relforcerowsecurity THEN format('ALTER TABLE %I FORCE ROW LEVEL "
            "SECURITY', c.relname) END), "
            "  (3, format('COMMENT ON TABLE %I IS %L', c.relname, "
            "             obj_description(c.oid, 'pg_class')))) AS x(n, s) "
            "WHERE c.oid = CAST(:t AS regclass) AND s IS NOT NULL ORDER BY n",
            t=table,
        )
    ]
    statements.append(f'REVOKE ALL ON "{table}" FROM PUBLIC, {APP}, {SCOPED}')
    return statements + _grants(conn, table)


def _identity(conn: Connection, table: str) -> list[tuple[str, str, list[str]]]:
    """The identity columns of ``table``: (column, sequence, the sequence's grants)."""
    return [
        (str(column), str(seq), _grants(conn, str(seq)))
        for column, seq in _rows(
            conn,
            "SELECT a.attname, pg_get_serial_sequence(:t, a.attname) FROM pg_attribute a "
            "WHERE a.attrelid = CAST(:t AS regclass) AND a.attidentity <> ''",
            t=table,
        )
    ]


def _continue_identity(
    conn: Connection, table: str, old: str, identity: list[tuple[str, str, list[str]]]
) -> None:
    """Continue each new identity sequence where the old one was (never below a copied value),
    with the old one's grants."""
    for column, seq, grants in identity:
        new = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}
        ).scalar()
        if new != seq:  # it takes the old one's name, renamed away before
            msg = f"the identity sequence of {table}.{column} is {new}, not {seq}"
            raise RuntimeError(msg)
        op.execute(
            f"SELECT setval('{seq}', greatest((SELECT last_value FROM \"{old}_{column}_seq\"), "
            f'(SELECT max({column}) FROM "{table}"), 1), '
            f'(SELECT is_called FROM "{old}_{column}_seq") OR EXISTS (SELECT FROM "{table}"))'
        )
        op.execute(f"REVOKE ALL ON SEQUENCE {seq} FROM PUBLIC, {APP}, {SCOPED}")
        for grant in grants:
            op.execute(grant)


def _default_partition(conn: Connection, table: str, old: str) -> None:
    """The default partition of ``table``; for fixes partitioned by month like ``old`` was."""
    if table != "fixes":
        op.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        op.execute(f"SELECT partition_private('{table}_default')")
        return
    op.execute(
        f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT PARTITION BY RANGE (t)'
    )
    op.execute(f"SELECT partition_private('{table}_default')")
    for (month,) in _rows(
        conn,
        "SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1] "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:t AS regclass) ORDER BY 1",
        t=old,
    ):
        conn.execute(text("SELECT fixes_partition(CAST(:m AS timestamptz))"), {"m": month})


def _partition(conn: Connection, table: str) -> None:
    """Convert ``table`` in place into one partitioned by LIST (region) with a default
    partition (its months kept below it for fixes)."""
    old = f"{table}_unpartitioned"
    rebuild = _rebuild(conn, table)
    identity = _identity(conn, table)
    columns = [
        str(r[0])
        for r in _rows(
            conn,
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            t=table,
        )
    ]
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for column, seq, _ in identity:
        op.execute(f'ALTER SEQUENCE {seq} RENAME TO "{old}_{column}_seq"')
    added = table in NEW_REGION
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY '
        "INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS"
        f"{', region text NOT NULL' if added else ''}) PARTITION BY LIST (region)"
    )
    _default_partition(conn, table, old)
    targets = ", ".join(columns + (["region"] if added else []))
    sources = ", ".join([f"o.{c}" for c in columns] + ([NEW_REGION[table]] if added else []))
    overriding = " OVERRIDING SYSTEM VALUE" if identity else ""
    op.execute(f'INSERT INTO "{table}" ({targets}){overriding} SELECT {sources} FROM "{old}" o')
    _continue_identity(conn, table, old, identity)
    op.execute(f'DROP TABLE "{old}"')
    for statement in rebuild:
        op.execute(statement)
    op.execute(f'ANALYZE "{table}"')


def upgrade() -> None:
    conn = op.get_bind()
    op.execute(AUDIT_REGION)
    op.execute(PARTITION_FUNCTIONS)
    policies = _policies(conn)
    for drop, _ in policies:
        op.execute(drop)
    for table in ("route_stops", "route_legs"):
        _add_region(table)
    region = _region_tables(conn) | {"case_events", "audit_log"}
    foreign = _loose_foreign_keys(conn, region)
    for table, name, _ in foreign:
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for table in PARTITIONED:
        _partition(conn, table)
    for table in sorted(_region_tables(conn) - set(PARTITIONED)):
        _lead_with_region(conn, table)
    for table, name, definition in foreign:
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _, create in policies:
        op.execute(create)
    op.execute(_audit_changes())
    op.execute(_key_outside_scope(conn))
