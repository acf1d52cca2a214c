"""GCJ-02 in the database, so vector tiles sit on a GCJ-02 basemap (Amap) as embedded overlays do.

``gcj02_offset(lon, lat)`` is the published GCJ-02 forward offset (the same formula as
``geo.crs``, Krasovsky 1940 ellipsoid), zero outside the China box. ``tile_mercator(g, gcj02)``
is what every tile query draws: the geometry in web mercator, moved by the GCJ-02 offset at its
point on surface when ``gcj02`` is true. One offset per feature rather than per vertex: the
offset changes by at most about 4 mm per metre (its steepest term is 20·sin(6πx) m per degree),
so across a 100 m micro-grid the error is under 0.4 m, well below a screen pixel at street zoom.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION gcj02_offset(lon float8, lat float8) RETURNS float8[]
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        DECLARE
            a CONSTANT float8 := 6378245.0;
            ee CONSTANT float8 := 0.00669342162296594323;
            x float8 := lon - 105.0;
            y float8 := lat - 35.0;
            common float8;
            dlat float8;
            dlon float8;
            magic float8;
            sqrt_magic float8;
        BEGIN
            IF lon < 72.004 OR lon > 137.8347 OR lat < 0.8293 OR lat > 55.8271 THEN
                RETURN ARRAY[0.0, 0.0];
            END IF;
            common := (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0;
            dlat := -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
                    + 0.2 * sqrt(abs(x)) + common
                    + (20.0 * sin(y * pi()) + 40.0 * sin(y / 3.0 * pi())) * 2.0 / 3.0
                    + (160.0 * sin(y / 12.0 * pi()) + 320.0 * sin(y * pi() / 30.0)) * 2.0 / 3.0;
            dlon := 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
                    + 0.1 * sqrt(abs(x)) + common
                    + (20.0 * sin(x * pi()) + 40.0 * sin(x / 3.0 * pi())) * 2.0 / 3.0
                    + (150.0 * sin(x / 12.0 * pi()) + 300.0 * sin(x / 30.0 * pi())) * 2.0 / 3.0;
            magic := 1.0 - ee * sin(radians(lat)) ^ 2;
            sqrt_magic := sqrt(magic);
            RETURN ARRAY[
                dlon * 180.0 / (a / sqrt_magic * cos(radians(lat)) * pi()),
                dlat * 180.0 / ((a * (1.0 - ee)) / (magic * sqrt_magic) * pi())
            ];
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION tile_mercator(g geometry, gcj02 boolean) RETURNS geometry
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        DECLARE
            w geometry;
            p geometry;
            o float8[];
        BEGIN
            IF NOT gcj02 THEN
                RETURN ST_Transform(g, 3857);
            END IF;
            w := ST_Transform(g, 4326);
            p := ST_PointOnSurface(w);
            o := gcj02_offset(ST_X(p), ST_Y(p));
            RETURN ST_Transform(ST_Translate(w, o[1], o[2]), 3857);
        END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION tile_mercator(geometry, boolean)")
    op.execute("DROP FUNCTION gcj02_offset(float8, float8)")
