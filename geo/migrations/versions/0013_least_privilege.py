"""Least privilege: the app's login owns nothing and cannot touch the audit log but through it.

The schema belongs to the owner login that runs the migrations (``GRIDSAFE_OWNER_DATABASE_URL``);
the app connects as another login (``GRIDSAFE_DATABASE_URL``), a member of the group role
``gridsafe_app`` (made by ``gridsafe db init``, geo/database.py ``ensure_database``), which gets:

- SELECT, INSERT, UPDATE and DELETE on the owner's tables, now and later (default privileges);
  no TRUNCATE, REFERENCES or TRIGGER, and no ownership, so it can neither alter a table nor
  disable a trigger;
- on ``audit_log`` SELECT only (admins read it): the log is appended to by the audit triggers
  alone, whose function (``audit_changes``, a0009/a0011) runs as the owner (SECURITY DEFINER,
  fixed search_path); ``alembic_version`` and ``gridsafe_meta`` (the migrations'): SELECT only;
- every row of the tables under row-level security (policy ``{table}_app``; the app is no
  longer their owner, so without it the policies of ``gridsafe_scoped`` would hide every row).
  A table given row-level security later needs its ``_app`` policy too (tests/test_privileges.py
  checks every one has it);
- the two things it did as a superuser that need ownership, as owner-run functions:
  ``fixes_partition(month)`` creates a month's partition of ``fixes``, ``analyze_table(t)``
  refreshes a table's statistics after a bulk write.

Not being a superuser, it cannot set ``session_replication_role`` (which turns triggers off).

Who an entry names is still the app's word: it sets ``gridsafe.actor`` to the signed-in user in
each transaction (geo/database.py), and the database cannot check that. What the app's login
can no longer do is write an entry itself, or change or remove one.

Revision ID: a0013
Revises: l0012
Create Date: 2026-12-04
"""

from alembic import op

revision = "a0013"
down_revision = "l0012"
branch_labels = None
depends_on = None

APP = "gridsafe_app"
READ_ONLY = ("audit_log", "alembic_version", "gridsafe_meta")

FUNCTIONS = f"""
CREATE FUNCTION fixes_partition(month timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'fixes_p' || to_char(first AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    -- A partition that exists is left alone without taking a lock on fixes.
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(4547004);
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF fixes FOR VALUES FROM (%L) TO (%L)',
                   name, first, first + interval '1 month');
    RETURN name;
END $$;
COMMENT ON FUNCTION fixes_partition(timestamptz) IS
    'Create the partition of fixes for the UTC calendar month of the argument; its name, or '
    'null when it exists.';
CREATE FUNCTION analyze_table(t regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_class WHERE oid = t AND relnamespace = 'public'::regnamespace
                   AND relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION 'analyze_table: % is no table of the schema', t;
    END IF;
    EXECUTE format('ANALYZE %s', t);
END $$;
REVOKE ALL ON FUNCTION fixes_partition(timestamptz), analyze_table(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fixes_partition(timestamptz), analyze_table(regclass) TO {APP};
"""


def upgrade() -> None:
    read_only = ", ".join(f"'{t}'" for t in READ_ONLY)
    op.execute(
        f"""
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP};
        DO $$
        DECLARE
            t record;
        BEGIN
            FOR t IN SELECT c.relname, c.relrowsecurity FROM pg_class c
                     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                       AND pg_get_userbyid(c.relowner) = current_user
            LOOP
                IF t.relname IN ({read_only}) THEN
                    EXECUTE format('GRANT SELECT ON %I TO {APP}', t.relname);
                ELSE
                    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {APP}',
                                   t.relname);
                END IF;
                IF t.relrowsecurity THEN
                    EXECUTE format('CREATE POLICY %I ON %I TO {APP} USING (true) WITH CHECK (true)',
                                   t.relname || '_app', t.relname);
                END IF;
            END LOOP;
        END $$;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP};
        """
    )
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        f"""
        DROP FUNCTION fixes_partition(timestamptz);
        DROP FUNCTION analyze_table(regclass);
        DO $$
        DECLARE
            t record;
        BEGIN
            FOR t IN SELECT polname, polrelid::regclass AS tab FROM pg_policy
                     WHERE '{APP}'::regrole = ANY(polroles)
            LOOP
                EXECUTE format('DROP POLICY %I ON %s', t.polname, t.tab);
            END LOOP;
        END $$;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP};
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP};
        """
    )
