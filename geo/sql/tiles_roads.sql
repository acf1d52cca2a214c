-- One web-mercator vector tile of the district's roads (the background when there is no basemap).
-- The && filter on the envelope transformed into the storage CRS lets the GiST index work; the
-- envelope is widened by the tile buffer (64/4096) so lines crossing the edge are kept.
-- t is MATERIALIZED: inlined, its `geom IS NOT NULL` would be pushed into the scan and each
-- feature clipped and encoded by ST_AsMVTGeom twice (a third of the tile's time).
WITH b AS (
    SELECT * FROM tile_bounds(:z, :x, :y, :srid, :gcj02)
), t AS MATERIALIZED (
    SELECT r.road_id AS id, r.name, r.road_class,
           ST_AsMVTGeom(tile_mercator(r.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM roads r, b
    WHERE r.region = :region AND r.geom && b.env_src
)
SELECT ST_AsMVT(t, 'roads', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
