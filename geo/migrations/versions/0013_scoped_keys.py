"""A record's key is unique within what its writer can see (``key_scope``).

Incidents and hazards are keyed by ``(region, source, source_id)``, check-ins by
``(region, person, t)``. A grid head's write runs under row-level security (``a0009``), so a key
already held by a record in another area made their upsert fail with "outside your area" where
a new key was stored: the answer told them which ids exist elsewhere. Now a scoped write whose
key is held only by a record the writer cannot see is stored as a record of its own, keyed with
the writer's scope (``key_scope``); every other record has ``key_scope = ''``. The grid head gets
the same answer as for a new key, may correct their record later like any other, and the other
area's record is never touched. ``source`` and ``source_id`` stay as sent, so the data desk's
deduplication by ``(source, source_id)`` finds both records.

The choice is made by a trigger, before the upsert's conflict check, and only for scoped writers
(``gridsafe.scope`` set): imports by unscoped callers never pay for it.

Revision ID: k0013
Revises: l0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "k0013"
down_revision = "l0012"
branch_labels = None
depends_on = None

# table: (old unique constraint, its key columns after the region)
KEYS = {
    "incidents": ("incidents_source_key", ("source", "source_id")),
    "hazards": ("hazards_source_key", ("source", "source_id")),
    "checkins": ("checkins_person_time_key", ("person", "t")),
}


def upgrade() -> None:
    for table, (constraint, columns) in KEYS.items():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN key_scope text NOT NULL DEFAULT ''; "
            f"COMMENT ON COLUMN {table}.key_scope IS 'empty, or the area scope of the grid "
            f"head or member whose record shares its key with one outside their area'; "
            f"ALTER TABLE {table} DROP CONSTRAINT {constraint}; "
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} "
            f"UNIQUE (region, {', '.join(columns)}, key_scope)"
        )
    # Runs as the tables' owner: it sees the record the writer cannot, and says nothing of it.
    op.execute(
        """
        CREATE FUNCTION key_outside_scope() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            hidden boolean;
        BEGIN
            IF TG_TABLE_NAME = 'checkins' THEN
                SELECT EXISTS (
                    SELECT FROM checkins r
                    WHERE r.region = NEW.region AND r.person = NEW.person AND r.t = NEW.t
                      AND r.key_scope = ''
                      AND (r.area_code IS NULL OR r.area_code NOT IN (SELECT scope_areas()))
                ) INTO hidden;
            ELSIF TG_TABLE_NAME = 'incidents' THEN
                SELECT EXISTS (
                    SELECT FROM incidents r
                    WHERE r.region = NEW.region AND r.source = NEW.source
                      AND r.source_id = NEW.source_id AND r.key_scope = ''
                      AND (r.area_code IS NULL OR r.area_code NOT IN (SELECT scope_areas()))
                ) INTO hidden;
            ELSE
                SELECT EXISTS (
                    SELECT FROM hazards r
                    WHERE r.region = NEW.region AND r.source = NEW.source
                      AND r.source_id = NEW.source_id AND r.key_scope = ''
                      AND (r.area_code IS NULL OR r.area_code NOT IN (SELECT scope_areas()))
                ) INTO hidden;
            END IF;
            IF hidden THEN
                NEW.key_scope := current_setting('gridsafe.scope');
            END IF;
            RETURN NEW;
        END $$;
        """
    )
    for table in KEYS:
        op.execute(
            f"CREATE TRIGGER {table}_key_scope BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (current_setting('gridsafe.scope', true) <> '') "
            "EXECUTE FUNCTION key_outside_scope()"
        )


def downgrade() -> None:
    for table, (constraint, columns) in KEYS.items():
        op.execute(f"DROP TRIGGER {table}_key_scope ON {table}")
        op.execute(
            f"DELETE FROM {table} WHERE key_scope <> ''; "
            f"ALTER TABLE {table} DROP CONSTRAINT {constraint}; "
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} "
            f"UNIQUE (region, {', '.join(columns)}); "
            f"ALTER TABLE {table} DROP COLUMN key_scope"
        )
    op.execute("DROP FUNCTION key_outside_scope()")
