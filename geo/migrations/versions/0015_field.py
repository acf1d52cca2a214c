"""Work on foot: the grid's people and squads, photos of reports, hazard rectifications.

- ``grid_people``: each level-3 grid's people (三长九员一书记): the grid head, the building and
  road-section heads, the nine members by duty and the secretary.
- ``squads`` and ``squad_members``: each level-3 grid's three squads (mediation, inspection,
  patrol, the kinds of ``geo.cases.SQUADS``) with their names and who is in them.
- ``field_photos``: the photos of an incident, a hazard or a rectification, stored re-encoded
  (no metadata, so no EXIF location) with a thumbnail; keyed by the record and the photo's
  digest, so a photo sent twice is kept once.
- ``hazard_rectifications``: a hazard's rectification (整改) steps: status, date, note; keyed by
  the phone's id of the step (``client_id``), so a step sent twice is kept once.

Grants and row-level security as for the tables before (migrations a0009 and a0013): the app's
login reads and writes every row (policy ``{table}_app``); the scoped role (grid heads and
members) sees the people and squads of the level-3 grids that hold or lie under its scope, and
reads and writes the photos and rectifications of records in its area only.

Revision ID: p0015
Revises: m0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "p0015"
down_revision = "m0014"
branch_labels = None
depends_on = None

APP = "gridsafe_app"
SCOPED = "gridsafe_scoped"

# The level-3 grids a scoped caller belongs to: its scope's own grid3 ancestor, or the
# grid3 areas at or under its scope.
SCOPE_GRIDS = """
CREATE FUNCTION scope_grids() RETURNS TABLE (region text, code text, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT a.region, a.code, a.name FROM areas a
    WHERE a.level = 'grid3' AND (
        a.code IN (SELECT scope_areas())
        OR EXISTS (SELECT FROM areas s
                   WHERE s.region = a.region
                     AND s.code = current_setting('gridsafe.scope', true)
                     AND a.code = ANY(s.ancestors)))
$$;
COMMENT ON FUNCTION scope_grids() IS
    'The level-3 grids of the caller''s scope: those at or under it, or the one it lies in';
REVOKE ALL ON FUNCTION scope_grids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scope_grids() TO {scoped}, {app};
"""

TABLES = """
CREATE TABLE grid_people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    grid_code text NOT NULL,
    post text NOT NULL CHECK (post IN ('grid_head', 'building_head', 'road_head', 'member',
                                       'secretary')),
    duty text,
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    phone text,
    position int NOT NULL DEFAULT 0,
    FOREIGN KEY (region, grid_code) REFERENCES areas (region, code) ON DELETE CASCADE,
    CHECK ((post = 'member') = (duty IS NOT NULL))
);
CREATE INDEX grid_people_grid ON grid_people (region, grid_code);
COMMENT ON TABLE grid_people IS 'The people of a level-3 grid (三长九员一书记)';

CREATE TABLE squads (
    region text NOT NULL,
    grid_code text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('mediation', 'inspection', 'patrol')),
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    PRIMARY KEY (region, grid_code, kind),
    FOREIGN KEY (region, grid_code) REFERENCES areas (region, code) ON DELETE CASCADE
);
COMMENT ON TABLE squads IS 'The three squads of a level-3 grid, one per zero';

CREATE TABLE squad_members (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    grid_code text NOT NULL,
    kind text NOT NULL,
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    phone text,
    leads boolean NOT NULL DEFAULT false,
    FOREIGN KEY (region, grid_code, kind) REFERENCES squads (region, grid_code, kind)
        ON DELETE CASCADE
);
CREATE INDEX squad_members_squad ON squad_members (region, grid_code, kind);

CREATE TABLE field_photos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    record_kind text NOT NULL CHECK (record_kind IN ('incident', 'hazard', 'rectification')),
    record_id bigint NOT NULL,
    area_code text NOT NULL,
    sha256 text NOT NULL,
    media_type text NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    content bytea NOT NULL,
    thumbnail bytea NOT NULL,
    taken_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region, record_kind, record_id, sha256)
);
CREATE INDEX field_photos_record ON field_photos (region, record_kind, record_id);
COMMENT ON TABLE field_photos IS
    'Photos of reports and rectifications, re-encoded without metadata (no EXIF location)';

CREATE TABLE hazard_rectifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    client_id uuid NOT NULL,
    hazard_id bigint NOT NULL,
    area_code text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'in_progress', 'done')),
    on_day date NOT NULL,
    note text,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region, client_id)
);
CREATE INDEX hazard_rectifications_hazard ON hazard_rectifications (hazard_id);
"""

GRID_TABLES = ("grid_people", "squads", "squad_members")
AREA_TABLES = ("field_photos", "hazard_rectifications")
AUDITED: dict[str, tuple[str, ...]] = {
    "grid_people": ("id",),
    "squads": ("region", "grid_code", "kind"),
    "squad_members": ("id",),
    "hazard_rectifications": ("id",),
}
"""Tables whose changes the audit log records, with their key columns (migration 0011)."""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(SCOPE_GRIDS.format(scoped=SCOPED, app=APP))
    for table in (*GRID_TABLES, *AREA_TABLES):
        op.execute(
            f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP};
            CREATE POLICY {table}_app ON {table} TO {APP} USING (true) WITH CHECK (true);
            """
        )
    for table in GRID_TABLES:
        op.execute(
            f"""
            GRANT SELECT ON {table} TO {SCOPED};
            CREATE POLICY {table}_scope ON {table} FOR SELECT TO {SCOPED}
                USING (grid_code IN (SELECT code FROM scope_grids()));
            """
        )
    for table in AREA_TABLES:
        op.execute(
            f"""
            GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {SCOPED};
            CREATE POLICY {table}_scope ON {table} FOR ALL TO {SCOPED}
                USING (area_code IN (SELECT scope_areas()))
                WITH CHECK (area_code IN (SELECT scope_areas()));
            """
        )
    for table, keys in AUDITED.items():
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


def downgrade() -> None:
    op.execute(
        "DROP TABLE hazard_rectifications, field_photos, squad_members, squads, grid_people; "
        "DROP FUNCTION scope_grids()"
    )
