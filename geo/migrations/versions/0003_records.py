"""The one rule that places a point in a micro-grid, as a SQL function, and its index.

``locate_micro(region, geom)`` returns the micro-grid holding a point and the codes from the top
area down to it. The border rule (geo/locate.py documents it): the micro-grid whose interior
contains the point; a point on a boundary shared by several micro-grids (an edge or a vertex), or
in a sliver where siblings overlap within tolerance, goes to the smallest code among the candidates
whose interior holds it, else among those whose boundary touches it. A point in no micro-grid gets
no row (the caller keeps it with a null area).

It is a single-SELECT ``LANGUAGE sql`` function, so PostgreSQL inlines it into the calling query
and the lookup stays one set-based join on the partial GiST index below.

Revision ID: 0003_records
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003_records"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "areas_micro_gist",
        "areas",
        ["geom"],
        postgresql_using="gist",
        postgresql_where="level = 'micro'",
    )
    op.execute(
        """
        CREATE FUNCTION locate_micro(p_region text, p_geom geometry)
        RETURNS TABLE (area_code text, area_path text[])
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$
            SELECT a.code, a.ancestors || a.code
            FROM areas a
            WHERE a.region = p_region
              AND a.level = 'micro'
              AND ST_Intersects(a.geom, p_geom)
            ORDER BY ST_Contains(a.geom, p_geom) DESC, a.code
            LIMIT 1
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION locate_micro(text, geometry)")
    op.drop_index("areas_micro_gist", table_name="areas")
