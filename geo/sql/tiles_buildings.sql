-- One web-mercator vector tile of the district's buildings (the background with no basemap).
WITH b AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Expand(
               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), :srid),
               CASE WHEN :gcj02 THEN 1000 ELSE 0 END
           ) AS env_src
), t AS (
    SELECT g.building_id AS id, g.name, g.floors,
           ST_AsMVTGeom(tile_mercator(g.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM buildings g, b
    WHERE g.region = :region AND g.geom && b.env_src
)
SELECT ST_AsMVT(t, 'buildings', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
