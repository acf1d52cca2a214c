"""The audit log keeps content for bulk statements too, and covers every table people change.

Until now a statement over 50 rows left only its row count (not the keys' range that a0009's
docstring promises), and route stops and legs, import runs and risk runs had no trigger.

``audit_changes()`` (migration ``a0009``) now takes the audited table's key columns as trigger
arguments (``AUDITED`` below: its primary key) and writes, per statement:

- INSERT: up to ``AUDIT_ROWS`` (50) rows, the rows inserted; above that, ``after`` is
  ``{"rows": n, "keys": {column: {"min": .., "max": ..}}}``, the range of each key column.
- UPDATE: up to ``AUDIT_CHANGED_ROWS`` (10,000) rows, one element per row in ``before`` and in
  ``after``, in the same order (by key): the row's key columns and only the columns the
  statement changed, old values in ``before``, new in ``after``; a re-assignment of thousands of
  records after a boundary change can be followed record by record. A row whose key itself
  changed is listed whole, old in ``before``, new in ``after``. Above the bound, ``before`` and
  ``after`` hold the key ranges of the old and the new rows.
- DELETE: up to ``AUDIT_CHANGED_ROWS`` rows, the rows deleted, whole (nothing else keeps them);
  above, ``before`` holds the key range.

``rows`` is always the number of rows the statement wrote. Secret columns (``SECRET_COLUMNS``:
password hashes, token digests, CSRF tokens) are never copied. A big statement costs one pass
over the transition table (count and the keys' min and max); no JSON of its rows is built. An
UPDATE's columns are compared as they are and only changed values are turned into JSON (about
0.2 s for 10,000 incident-like rows with a geometry).

Tables not audited, and why (``NOT_AUDITED``; tests/test_access.py holds the same decisions and
checks them against the database's triggers):

- ``area_cells``, ``area_cell_grids``: the locate lookup, derived from ``areas`` (audited) and
  rebuilt from it whenever an area changes.
- ``coverage_cache``: stored patrol covers, derived from ``fixes`` and ``areas`` (audited);
  dropping its rows loses nothing but time.
- ``routing_edges``, ``routing_vertices``: the road network, rebuilt whole from ``roads``
  (audited) by ``geo.routing.network.build_network``; its geometry would only swell the log.
- ``risk_scores``: the output of a risk run, only ever inserted with its ``risk_runs`` row
  (audited: who computed, when, with which parameters, and the run's summary) and never
  changed; it is written one area per statement (``geo.risk.store``), so auditing it would add
  one entry per area of every run (about 0.2 ms and a copy of the reasons each).
- ``login_attempts``: itself the log of sign-ins (who, from where, when, success), appended
  only by the sign-in path.
- ``audit_log``: the log itself, append-only.
- ``gridsafe_meta``, ``alembic_version``: written only by migrations (the deployment's SRID,
  the schema's revision); ``spatial_ref_sys``: PostGIS's CRS catalogue.

Revision ID: a0011
Revises: s0010
Create Date: 2026-11-25
"""

from alembic import op

revision = "a0011"
down_revision = "s0010"
branch_labels = None
depends_on = None

AUDIT_ROWS = 50  # an INSERT up to this many rows is kept whole
AUDIT_CHANGED_ROWS = 10_000  # an UPDATE or DELETE up to this many rows is kept row by row
SECRET_COLUMNS = ("password_hash", "token_sha256", "csrf")  # as in a0009
# Audited table: its key columns (the primary key), passed to audit_changes().
AUDITED: dict[str, tuple[str, ...]] = {
    "areas": ("id",),
    "buildings": ("id",),
    "roads": ("id",),
    "pois": ("id",),
    "incident_types": ("code",),
    "incidents": ("id",),
    "hazards": ("id",),
    "fixes": ("region", "unit", "t"),
    "checkins": ("id",),
    "cases": ("id",),
    "case_events": ("id",),
    "route_plans": ("id",),
    "route_stops": ("plan_id", "unit_index", "seq"),
    "route_legs": ("plan_id", "unit_index", "seq"),
    "import_runs": ("id",),
    "risk_runs": ("id",),
    "users": ("id",),
    "tokens": ("id",),
}
NOT_AUDITED = (
    "alembic_version",
    "area_cell_grids",
    "area_cells",
    "audit_log",
    "coverage_cache",
    "gridsafe_meta",
    "login_attempts",
    "risk_scores",
    "routing_edges",
    "routing_vertices",
    "spatial_ref_sys",
)
# The tables a0009 audited, with triggers that pass no keys (restored by the downgrade).
AUDITED_A0009 = (
    "areas",
    "buildings",
    "roads",
    "pois",
    "incident_types",
    "incidents",
    "hazards",
    "fixes",
    "checkins",
    "cases",
    "case_events",
    "route_plans",
    "users",
    "tokens",
)

_ENTRY = """
                INSERT INTO audit_log (actor, action, entity, rows, before, after, txid)
                VALUES (
                    coalesce(nullif(current_setting('gridsafe.actor', true), ''),
                             'db:' || session_user),
                    TG_OP, TG_TABLE_NAME, n, audit_rows(b), audit_rows(a), txid_current());
"""

AUDIT_CHANGES = f"""
CREATE OR REPLACE FUNCTION audit_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    keys text[] := ARRAY(SELECT unnest(TG_ARGV));  -- TG_ARGV counts from 0
    ranges text;  -- jsonb_build_object('col', jsonb_build_object('min', min(col), ...), ...)
    counted text;  -- the transition table counted, with its key ranges: one pass
    key_old text;  -- 'id', o.id, ...: the arguments of jsonb_build_object
    joined text;  -- o.id = n.id AND ...
    changed_old text;  -- per column: a JSON object of its old value when it changed
    changed_new text;
    n bigint;
    b jsonb;
    a jsonb;
BEGIN
    IF cardinality(keys) = 0 THEN
        RAISE EXCEPTION 'audit trigger % on % names no key columns', TG_NAME, TG_TABLE_NAME;
    END IF;
    SELECT 'jsonb_build_object('
           || string_agg(format('%L, jsonb_build_object(''min'', min(%I), ''max'', max(%I))',
                                k, k, k), ', ')
           || ')'
      INTO ranges FROM unnest(keys) k;
    counted := 'SELECT count(*), jsonb_build_object(''rows'', count(*), ''keys'', '
               || ranges || ') FROM ';
    IF TG_OP = 'INSERT' THEN
        EXECUTE counted || 'new_rows' INTO n, a;
        IF n <= {AUDIT_ROWS} THEN
            SELECT jsonb_agg(to_jsonb(r)) INTO a FROM new_rows r;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE counted || 'new_rows' INTO n, a;
        IF n <= {AUDIT_CHANGED_ROWS} THEN
            -- Old and new rows paired by key. Columns are compared as they are (as text when
            -- their type has no default ordering: json, arrays, varchar), and only a changed
            -- value is turned into JSON (a row's geometry costs more than the rest).
            SELECT string_agg(format('CASE WHEN o.%1$I%2$s IS DISTINCT FROM n.%1$I%2$s '
                                     'THEN jsonb_build_object(%1$L, o.%1$I) ELSE ''{{}}'' END',
                                     c.attname,
                                     CASE WHEN EXISTS (SELECT FROM pg_opclass
                                                       WHERE opcintype = c.atttypid
                                                         AND opcdefault)
                                          THEN '' ELSE '::text' END),
                              ' || ' ORDER BY c.attnum)
              INTO changed_old FROM pg_attribute c
             WHERE c.attrelid = TG_RELID AND c.attnum > 0 AND NOT c.attisdropped
               AND c.attname <> ALL (keys);
            changed_new := replace(changed_old, ', o.', ', n.');
            SELECT string_agg(format('%L, o.%I', k, k), ', '),
                   string_agg(format('o.%1$I = n.%1$I', k), ' AND ')
              INTO key_old, joined FROM unnest(keys) k;
            EXECUTE format(
                'SELECT jsonb_agg(b ORDER BY k) FILTER (WHERE b IS NOT NULL), '
                '       jsonb_agg(a ORDER BY k) FILTER (WHERE a IS NOT NULL) '
                'FROM (SELECT coalesce(jsonb_build_object(%1$s), jsonb_build_object(%2$s)) AS k, '
                '  CASE WHEN n.%5$I IS NULL THEN to_jsonb(o) WHEN o.%5$I IS NOT NULL '
                '       THEN jsonb_build_object(%1$s) || %3$s END AS b, '
                '  CASE WHEN o.%5$I IS NULL THEN to_jsonb(n) WHEN n.%5$I IS NOT NULL '
                '       THEN jsonb_build_object(%2$s) || %4$s END AS a '
                '  FROM old_rows o FULL JOIN new_rows n ON %6$s OFFSET 0) pair',
                key_old, replace(key_old, ', o.', ', n.'),
                coalesce(changed_old, '''{{}}'''), coalesce(changed_new, '''{{}}'''),
                keys[1], joined)
              INTO b, a;
        ELSE
            EXECUTE counted || 'old_rows' INTO n, b;
        END IF;
    ELSE
        EXECUTE counted || 'old_rows' INTO n, b;
        IF n <= {AUDIT_CHANGED_ROWS} THEN
            SELECT jsonb_agg(to_jsonb(r)) INTO b FROM old_rows r;
        END IF;
    END IF;
    IF n > 0 THEN
        {_ENTRY}
    END IF;
    RETURN NULL;
END $$;
"""

# audit_rows() of a0009 hides secret columns in a list of rows; a key range passes as it is.
AUDIT_ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_rows(rows jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(rows) = 'array'
                THEN (SELECT jsonb_agg(r - ARRAY[{hidden}]) FROM jsonb_array_elements(rows) r)
                ELSE rows END
$$;
"""

# The function of a0009, restored by the downgrade.
AUDIT_CHANGES_A0009 = f"""
CREATE OR REPLACE FUNCTION audit_rows(rows jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_agg(r - ARRAY[{{hidden}}]) FROM jsonb_array_elements(rows) r
$$;
CREATE OR REPLACE FUNCTION audit_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n bigint;
    b jsonb;
    a jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n > 0 AND n <= {AUDIT_ROWS} THEN
            SELECT jsonb_agg(to_jsonb(r)) INTO a FROM new_rows r;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n > 0 AND n <= {AUDIT_ROWS} THEN
            SELECT jsonb_agg(to_jsonb(r)) INTO b FROM old_rows r;
            SELECT jsonb_agg(to_jsonb(r)) INTO a FROM new_rows r;
        END IF;
    ELSE
        SELECT count(*) INTO n FROM old_rows;
        IF n > 0 AND n <= {AUDIT_ROWS} THEN
            SELECT jsonb_agg(to_jsonb(r)) INTO b FROM old_rows r;
        END IF;
    END IF;
    IF n > 0 THEN
        {_ENTRY}
    END IF;
    RETURN NULL;
END $$;
"""


def _hidden() -> str:
    return ", ".join(f"'{c}'" for c in SECRET_COLUMNS)


def _create_triggers(table: str, keys: tuple[str, ...]) -> None:
    args = ", ".join(f"'{k}'" for k in keys)
    op.execute(
        f"""
        CREATE TRIGGER {table}_audit_ins AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION audit_changes({args});
        CREATE TRIGGER {table}_audit_upd AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION audit_changes({args});
        CREATE TRIGGER {table}_audit_del AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION audit_changes({args});
        """
    )


def _drop_triggers(table: str) -> None:
    for suffix in ("ins", "upd", "del"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{suffix} ON {table}")


def upgrade() -> None:
    op.execute(AUDIT_ROWS_FUNCTION.format(hidden=_hidden()))
    op.execute(AUDIT_CHANGES)
    for table, keys in AUDITED.items():
        _drop_triggers(table)
        _create_triggers(table, keys)


def downgrade() -> None:
    for table in AUDITED:
        _drop_triggers(table)
    op.execute(AUDIT_CHANGES_A0009.format(hidden=_hidden()))
    for table in AUDITED_A0009:
        _create_triggers(table, ())
