-- One web-mercator vector tile of the district's buildings (the background with no basemap).
-- t is MATERIALIZED: inlined, its `geom IS NOT NULL` would be pushed into the scan and each
-- feature clipped and encoded by ST_AsMVTGeom twice (a third of the tile's time).
WITH b AS (
    SELECT * FROM tile_bounds(:z, :x, :y, :srid, :gcj02)
), t AS MATERIALIZED (
    SELECT g.building_id AS id, g.name, g.floors,
           ST_AsMVTGeom(tile_mercator(g.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM buildings g, b
    WHERE g.region = :region AND g.geom && b.env_src
)
SELECT ST_AsMVT(t, 'buildings', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
