"""Who may see and change what: users, tokens, login attempts, the audit log, area scopes.

Area scopes are enforced by the database itself, with row-level security. A request made by a
caller with an area scope (grid heads, grid members) runs its transactions as the role
``gridsafe_scoped`` with ``gridsafe.scope`` set to the caller's area code (``geo.database``
does this in every transaction it begins for such a caller). The policies below let that role
see and change only rows in the scope area and its descendants; with no scope set it sees
nothing. Every other caller (admins, leaders, dispatchers, the command line) runs as the
connecting role, which owns the tables and is not subject to the policies.

Table by table, for ``gridsafe_scoped``:

- ``areas``: the scope area and its descendants; ``incidents``, ``hazards``, ``fixes``,
  ``checkins``, ``risk_scores``: rows whose micro-grid is one of those (outside every area:
  invisible); ``cases``: those whose incident is visible; ``case_events``: those of visible
  cases. Writes (check-ins, case updates, incidents and hazards) are checked the same way.
- ``route_plans``, ``route_stops``, ``route_legs``: nothing (routes are the dispatchers').
- Reference layers (buildings, roads, POIs, the road network), the incident type vocabulary and
  risk run metadata: readable. ``import_runs``: insert only (a grid member's report through the
  API is logged like any import). ``users``, ``tokens``, ``login_attempts`` and ``audit_log``:
  not granted at all.

The audit log: statement-level triggers on every table people change record who (the
``gridsafe.actor`` setting, else the database session user), what, when, and the rows before
and after (up to ``AUDIT_ROWS`` rows per statement; above that the row count and the keys'
range). The log refuses UPDATE, DELETE and TRUNCATE.

Revision ID: a0009
Revises: 0008
Create Date: 2026-11-25
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "a0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROLES = ("admin", "leader", "dispatcher", "grid_head", "grid_member")
SCOPED = "gridsafe_scoped"
AUDIT_ROWS = 50
# Never copied into the audit log.
SECRET_COLUMNS = ("password_hash", "token_sha256", "csrf")

IN_SCOPE = "area_code IN (SELECT scope_areas())"
POLICIES: dict[str, dict[str, str]] = {
    # table: {command: expression}; "ALL" covers SELECT, INSERT, UPDATE and DELETE.
    "areas": {"SELECT": "code IN (SELECT scope_areas())"},
    "incidents": {"ALL": IN_SCOPE},
    "hazards": {"ALL": IN_SCOPE},
    "fixes": {"SELECT": IN_SCOPE},
    "checkins": {"ALL": IN_SCOPE},
    "risk_scores": {"SELECT": IN_SCOPE},
    "cases": {"ALL": "incident_id IN (SELECT id FROM incidents)"},
    "case_events": {"ALL": "case_id IN (SELECT id FROM cases)"},
    "route_plans": {},
    "route_stops": {},
    "route_legs": {},
}
READABLE = (
    "buildings",
    "roads",
    "pois",
    "routing_edges",
    "routing_vertices",
    "incident_types",
    "risk_runs",
    "gridsafe_meta",
)
AUDITED = (
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


def _ts(name: str, **kw: object) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("scope_code", sa.Text, comment="area code: the user sees it and its subtree"),
        sa.Column("password_hash", sa.Text, comment="argon2id; null: no password login"),
        _ts("created_at", server_default=sa.func.now(), nullable=False),
        _ts("disabled_at"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="users_role_check"),
        sa.CheckConstraint(
            "(role IN ('grid_head', 'grid_member')) = (scope_code IS NOT NULL)",
            name="users_scope_check",
        ),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False, comment="session (cookie) or api (bearer)"),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("csrf", sa.Text, comment="a session's CSRF token"),
        sa.Column("label", sa.Text),
        _ts("created_at", server_default=sa.func.now(), nullable=False),
        _ts("expires_at", nullable=False),
        _ts("revoked_at"),
        sa.CheckConstraint("kind IN ('session', 'api')", name="tokens_kind_check"),
    )
    op.create_index("tokens_user_idx", "tokens", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        _ts("at", server_default=sa.func.now(), nullable=False),
    )
    op.create_index("login_attempts_user_idx", "login_attempts", ["username", "at"])
    op.create_index("login_attempts_client_idx", "login_attempts", ["client", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _ts("at", server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False, comment="INSERT, UPDATE or DELETE"),
        sa.Column("entity", sa.Text, nullable=False, comment="the table changed"),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("before", postgresql.JSONB, comment="the rows before (up to a limit)"),
        sa.Column("after", postgresql.JSONB, comment="the rows after (up to a limit)"),
        sa.Column("txid", sa.BigInteger, nullable=False),
    )
    op.create_index("audit_log_at_idx", "audit_log", ["at"])
    op.create_index("audit_log_entity_idx", "audit_log", ["entity", "at"])

    hidden = ", ".join(f"'{c}'" for c in SECRET_COLUMNS)
    op.execute(
        f"""
        CREATE FUNCTION audit_rows(rows jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
            SELECT jsonb_agg(r - ARRAY[{hidden}]) FROM jsonb_array_elements(rows) r
        $$;
        CREATE FUNCTION audit_changes() RETURNS trigger
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
                INSERT INTO audit_log (actor, action, entity, rows, before, after, txid)
                VALUES (
                    coalesce(nullif(current_setting('gridsafe.actor', true), ''),
                             'db:' || session_user),
                    TG_OP, TG_TABLE_NAME, n, audit_rows(b), audit_rows(a), txid_current());
            END IF;
            RETURN NULL;
        END $$;
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
        """
    )
    for table in AUDITED:
        op.execute(
            f"""
            CREATE TRIGGER {table}_audit_ins AFTER INSERT ON {table}
                REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION audit_changes();
            CREATE TRIGGER {table}_audit_upd AFTER UPDATE ON {table}
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION audit_changes();
            CREATE TRIGGER {table}_audit_del AFTER DELETE ON {table}
                REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION audit_changes();
            """
        )

    # The scoped role: a group role nobody logs in as; the connecting role may become it.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SCOPED}') THEN
                CREATE ROLE {SCOPED} NOLOGIN NOINHERIT;
            END IF;
        END $$;
        DO $$ BEGIN
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                EXECUTE format('GRANT {SCOPED} TO %I', current_user);
            END IF;
        -- An owner that may not grant it (a0013): the app's login has it through gridsafe_app.
        EXCEPTION WHEN insufficient_privilege THEN NULL;
        END $$;
        GRANT USAGE ON SCHEMA public TO {SCOPED};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {SCOPED};
        CREATE FUNCTION scope_areas() RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT code FROM areas
            WHERE code = current_setting('gridsafe.scope', true)
               OR current_setting('gridsafe.scope', true) = ANY(ancestors)
        $$;
        """
    )
    for table in READABLE:
        op.execute(f"GRANT SELECT ON {table} TO {SCOPED}")
    op.execute(f"GRANT INSERT ON import_runs TO {SCOPED}")
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {SCOPED}")
        for command, expression in policies.items():
            check = "" if command == "SELECT" else f" WITH CHECK ({expression})"
            op.execute(
                f"CREATE POLICY {table}_scope ON {table} FOR {command} TO {SCOPED} "
                f"USING ({expression}){check}"
            )


def downgrade() -> None:
    for table, policies in POLICIES.items():
        if policies:
            op.execute(f"DROP POLICY {table}_scope ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {SCOPED}")
    for table in (*READABLE, "import_runs"):
        op.execute(f"REVOKE ALL ON {table} FROM {SCOPED}")
    op.execute("DROP FUNCTION scope_areas()")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {SCOPED}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {SCOPED}")
    for table in AUDITED:
        for suffix in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER {table}_audit_{suffix} ON {table}")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.execute("DROP FUNCTION audit_changes()")
    op.execute("DROP FUNCTION audit_rows(jsonb)")
    op.drop_table("login_attempts")
    op.drop_table("tokens")
    op.drop_table("users")
