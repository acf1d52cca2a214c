"""Coverage counts every patrol, whoever asks: ``patrol_fixes(region, t0, t1)``.

Row-level security (migration a0009) shows a grid head only the fixes inside their area. Coverage
computed from those alone would be wrong at the area's edge: a track that leaves and comes back
would be drawn straight across the gap, a unit passing just outside would cover nothing inside,
a re-entry would not count as a new visit. So the coverage queries read every unit's fixes of
the period through this function (it runs as its owner, past the policies), and return only
results for areas the caller may see (their queries join ``areas``, which the policies filter),
and tracks clipped to the caller's area (coverage_tracks.sql). No query returns these fixes
themselves to a scoped caller.

Since a scoped caller's coverage is now everyone's (for their areas), it may read and store the
stored shift covers of its own micro-grids (``coverage_cache``, migration c0009), as anyone does.

Revision ID: s0010
Revises: c0009
Create Date: 2026-11-25
"""

from alembic import op

revision = "s0010"
down_revision = "c0009"
branch_labels = None
SCOPED = "gridsafe_scoped"  # the role of a0009
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION patrol_fixes(p_region text, p_t0 timestamptz, p_t1 timestamptz)
        RETURNS TABLE (unit text, unit_kind text, t timestamptz, geom geometry, area_code text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT f.unit, f.unit_kind, f.t, f.geom, f.area_code
            FROM fixes f
            WHERE f.region = p_region AND f.t >= p_t0 AND f.t < p_t1
        $$
        """
    )
    op.execute(f"GRANT INSERT, UPDATE ON coverage_cache TO {SCOPED}")
    op.execute(
        f"CREATE POLICY coverage_cache_scope ON coverage_cache FOR ALL TO {SCOPED} "
        "USING (area_code IN (SELECT scope_areas())) "
        "WITH CHECK (area_code IN (SELECT scope_areas()))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY coverage_cache_scope ON coverage_cache")
    op.execute(f"REVOKE INSERT, UPDATE ON coverage_cache FROM {SCOPED}")
    op.execute("DROP FUNCTION patrol_fixes(text, timestamptz, timestamptz)")
