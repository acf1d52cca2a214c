"""Patrol GPS fixes (partitioned by month) and grid-head check-ins.

``fixes`` is partitioned by range of ``t`` so that months of fixes for many units stay
queryable: a query for a shift touches one partition, and old months can be detached or
archived whole. Partitions are created on demand by the importer (geo/coverage/tracks.py);
there is no default partition, so a fix never lands in a catch-all that would have to be
split later. Each fix carries the micro-grid it lies in (``area_code``, located at import by
``locate_micro`` of 0003_records, the incident border rule), so visits and "time since the last
visit" are index look-ups rather than spatial joins over months of points.

Revision ID: 0004
Revises: 0003_records, 0003_risk
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0004"
# locate_micro (the border rule) comes from 0003_records; the gap list reads 0003_risk's tables.
down_revision = ("0003_records", "0003_risk")
branch_labels = None
depends_on = None

UNIT_KINDS = ("foot", "bicycle", "vehicle")


def upgrade() -> None:
    srid = context.config.attributes["settings"].srid
    op.execute(
        f"""
        CREATE TABLE fixes (
            region text NOT NULL,
            unit text NOT NULL,
            unit_kind text NOT NULL CHECK (unit_kind IN {UNIT_KINDS!r}),
            t timestamptz NOT NULL,
            geom geometry(POINT, {int(srid)}) NOT NULL,
            area_code text,
            PRIMARY KEY (region, unit, t)
        ) PARTITION BY RANGE (t)
        """
    )
    op.execute("COMMENT ON COLUMN fixes.area_code IS 'the micro-grid holding geom; null: outside'")
    op.execute("CREATE INDEX fixes_geom_gist ON fixes USING gist (geom)")
    op.execute("CREATE INDEX fixes_area_idx ON fixes (region, area_code, t)")

    op.create_table(
        "checkins",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False, comment="the grid head (网格长) checking in"),
        sa.Column("t", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=srid, spatial_index=False), nullable=False),
        sa.Column("source_crs", sa.Text),
        sa.Column("area_code", sa.Text, comment="the micro-grid holding geom; null: outside"),
        sa.Column("declared_code", sa.Text, comment="the micro-grid the file named, if any"),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.UniqueConstraint("region", "person", "t", name="checkins_person_time_key"),
    )
    op.create_index("checkins_geom_gist", "checkins", ["geom"], postgresql_using="gist")
    op.create_index("checkins_area_idx", "checkins", ["region", "area_code", "t"])
