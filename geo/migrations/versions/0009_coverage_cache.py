"""Stored patrol coverage per (shift, micro-grid): the covered part of the micro-grid.

Covering a micro-grid is the expensive part of coverage (buffers and unions of every track near
it), and a closed shift's fixes rarely change. ``coverage_cache`` keeps, per region, shift
``[t0, t1)`` and micro-grid, the covered geometry (already intersected with the micro-grid; null
when nothing is covered) and its area, so a day, week or month is the union of stored shift
pieces (geo/coverage/covered.py). A row is used only while it still describes its inputs:

- ``params`` names the radii, the track gap and the thinning tolerance it was computed with;
- ``area_digest`` is the md5 of the micro-grid's geometry at the time (a boundary change makes
  the row stale, whatever wrote the boundary);
- importing fixes deletes the rows of every shift the import touches (geo/coverage/tracks.py).

The table is a cache: dropping its rows loses nothing but time. The scoped role of a0009 may
select from it but row-level security, with no policy for that role, shows it no row: a caller
limited to an area computes its coverage afresh from the fixes it is allowed to see, and never
stores it (a cover made from part of the fixes would be wrong for everyone else).

Revision ID: c0009
Revises: i0009
Create Date: 2026-11-25
"""

from alembic import context, op

revision = "c0009"
down_revision = "i0009"
branch_labels = None
depends_on = None

SCOPED = "gridsafe_scoped"  # the role of a0009


def upgrade() -> None:
    srid = int(context.config.attributes["settings"].srid)
    op.execute(
        f"""
        CREATE TABLE coverage_cache (
            region text NOT NULL,
            t0 timestamptz NOT NULL,
            t1 timestamptz NOT NULL,
            area_code text NOT NULL,
            params text NOT NULL,
            area_digest text NOT NULL,
            covered_m2 float8 NOT NULL,
            geom geometry(MULTIPOLYGON, {srid}),
            computed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (region, t0, t1, area_code),
            CHECK (t0 < t1)
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE coverage_cache IS "
        "'covered part of each micro-grid per closed shift; a cache (see migration c0009)'"
    )
    op.execute("CREATE INDEX coverage_cache_area_idx ON coverage_cache (region, area_code, t0)")
    # The coverage queries name the table whoever runs them; the scoped role reads no row.
    op.execute("ALTER TABLE coverage_cache ENABLE ROW LEVEL SECURITY")
    op.execute(f"GRANT SELECT ON coverage_cache TO {SCOPED}")


def downgrade() -> None:
    op.execute("DROP TABLE coverage_cache")
