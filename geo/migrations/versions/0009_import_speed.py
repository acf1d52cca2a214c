"""Faster record imports: a grid-cell lookup for locating points, and one index fewer per table.

``area_cells`` holds, per region, the square cells (side ``area_cell_grids.cell_m``, aligned on
the CRS origin as ``ST_SquareGrid`` aligns them: cell ``(i, j)`` is
``[i*cell_m, (i+1)*cell_m] x [j*cell_m, (j+1)*cell_m]``) that touch a micro-grid. A cell whose
square, grown by a millimetre, crosses no micro-grid boundary gets the one micro-grid every
point inside it goes to under the border rule (``area_code``); any other cell lists the
micro-grids it touches (``candidates``) and its points are tested exactly. The lookup is built
by :func:`geo.locate.ensure_cells` (``geo/sql/area_cells_build.sql``); any change to ``areas``
deletes the region's ``area_cell_grids`` row (trigger below), so a stale lookup is never used:
the next import or ``gridsafe locate`` rebuilds it.

The GIN indexes on ``area_path`` go: "this area and everything under it" is now
``area_code = ANY(descendant micro-grids)`` on the ``(region, area_code, ...)`` B-tree that the
row-level security policies (``area_code IN (SELECT scope_areas())``) use too, and every import
paid for the GIN on each row. ``area_path`` itself stays: it is API output.

Area-scoped callers (row-level security, migration ``a0009``) may read the lookup's metadata
but no cell (a cell names micro-grids outside their scope), so their records go the exact way;
they never build it (:func:`geo.locate.ensure_cells`).

Revision ID: i0009
Revises: a0009
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "i0009"
down_revision = "a0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_cell_grids",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("cell_m", sa.Float, nullable=False, comment="cell side in metres"),
        sa.Column("cells", sa.Integer, nullable=False),
        sa.Column("exact_cells", sa.Integer, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "area_cells",
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("i", sa.Integer, nullable=False),
        sa.Column("j", sa.Integer, nullable=False),
        sa.Column("area_code", sa.Text, comment="every point of the cell goes here; null: exact"),
        sa.Column(
            "candidates",
            postgresql.ARRAY(sa.Text),
            comment="micro-grids a boundary cell touches; its points are tested exactly",
        ),
        sa.PrimaryKeyConstraint("region", "i", "j"),
    )
    op.execute(
        """
        CREATE FUNCTION area_cells_invalidate() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM area_cell_grids;
            ELSE
                DELETE FROM area_cell_grids WHERE region IN (SELECT region FROM changed_rows);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "UPDATE", "DELETE"):
        table = "OLD TABLE" if event == "DELETE" else "NEW TABLE"
        op.execute(
            f"CREATE TRIGGER areas_cells_{event.lower()} AFTER {event} ON areas "
            f"REFERENCING {table} AS changed_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION area_cells_invalidate()"
        )
    op.execute(
        "CREATE TRIGGER areas_cells_truncate AFTER TRUNCATE ON areas "
        "FOR EACH STATEMENT EXECUTE FUNCTION area_cells_invalidate()"
    )
    op.execute("GRANT SELECT ON area_cells, area_cell_grids TO gridsafe_scoped")
    op.execute("ALTER TABLE area_cells ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY area_cells_scope ON area_cells FOR SELECT TO gridsafe_scoped USING (false)"
    )
    op.drop_index("incidents_path_gin", table_name="incidents")
    op.drop_index("hazards_path_gin", table_name="hazards")


def downgrade() -> None:
    op.create_index("hazards_path_gin", "hazards", ["area_path"], postgresql_using="gin")
    op.create_index("incidents_path_gin", "incidents", ["area_path"], postgresql_using="gin")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER areas_cells_{event} ON areas")
    op.execute("DROP FUNCTION area_cells_invalidate()")
    op.drop_table("area_cells")
    op.drop_table("area_cell_grids")
