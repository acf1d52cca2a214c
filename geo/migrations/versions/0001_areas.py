"""Areas of the grid hierarchy, the district's buildings, roads and points of interest.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LEVELS = ("subdistrict", "grid2", "grid3", "micro")


def _region() -> sa.Column[Any]:
    # The tenant key on every table: the national case distributes by it.
    return sa.Column("region", sa.Text, nullable=False)


def upgrade() -> None:
    srid = context.config.attributes["settings"].srid
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "gridsafe_meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.execute(
        sa.text("INSERT INTO gridsafe_meta (key, value) VALUES ('srid', :srid)").bindparams(
            srid=str(srid)
        )
    )
    op.create_table(
        "areas",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _region(),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text),
        sa.Column(
            "ancestors",
            postgresql.ARRAY(sa.Text),
            nullable=False,
            server_default="{}",
            comment="codes of every ancestor, top first",
        ),
        sa.Column("population", sa.Integer),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=srid, spatial_index=False),
            nullable=False,
        ),
        sa.Column("area_m2", sa.Float, sa.Computed("ST_Area(geom)", persisted=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("region", "code", name="areas_region_code_key"),
        sa.ForeignKeyConstraint(
            ["region", "parent_code"],
            ["areas.region", "areas.code"],
            name="areas_parent_fkey",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.CheckConstraint(f"level IN {LEVELS!r}", name="areas_level_check"),
        sa.CheckConstraint(
            "(level = 'subdistrict') = (parent_code IS NULL)", name="areas_parent_check"
        ),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="areas_geom_check"),
    )
    op.create_index("areas_geom_gist", "areas", ["geom"], postgresql_using="gist")
    op.create_index("areas_level_idx", "areas", ["region", "level"])
    op.create_index("areas_parent_idx", "areas", ["region", "parent_code"])
    op.create_index("areas_ancestors_gin", "areas", ["ancestors"], postgresql_using="gin")

    op.create_table(
        "buildings",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _region(),
        sa.Column("building_id", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("floors", sa.Integer),
        sa.Column("residents", sa.Integer),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=srid, spatial_index=False), nullable=False),
        sa.UniqueConstraint("region", "building_id", name="buildings_region_id_key"),
    )
    op.create_index("buildings_geom_gist", "buildings", ["geom"], postgresql_using="gist")

    op.create_table(
        "roads",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _region(),
        sa.Column("road_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("road_class", sa.Text),
        sa.Column("oneway", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("maxspeed_kmh", sa.Float),
        sa.Column("lanes", sa.Integer),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("LINESTRING", srid=srid, spatial_index=False), nullable=False),
        sa.UniqueConstraint("region", "road_id", name="roads_region_id_key"),
    )
    op.create_index("roads_geom_gist", "roads", ["geom"], postgresql_using="gist")

    op.create_table(
        "pois",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _region(),
        sa.Column("poi_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("POINT", srid=srid, spatial_index=False), nullable=False),
        sa.UniqueConstraint("region", "poi_id", name="pois_region_id_key"),
    )
    op.create_index("pois_geom_gist", "pois", ["geom"], postgresql_using="gist")

    op.create_table(
        "import_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _region(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("report", postgresql.JSONB, nullable=False),
    )
