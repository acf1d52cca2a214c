-- One web-mercator vector tile of incidents, optionally of some types and occurred in [from, to).
-- t is MATERIALIZED: inlined, its `geom IS NOT NULL` would be pushed into the scan and each
-- feature clipped and encoded by ST_AsMVTGeom twice (a third of the tile's time).
WITH b AS (
    SELECT * FROM tile_bounds(:z, :x, :y, :srid, :gcj02)
), t AS MATERIALIZED (
    SELECT i.id, i.type, to_char(i.occurred_at, 'YYYY-MM-DD') AS occurred, i.area_code,
           ST_AsMVTGeom(tile_mercator(i.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM incidents i, b
    WHERE i.region = :region AND i.geom && b.env_src
      AND (CAST(:types AS text[]) IS NULL OR i.type = ANY(CAST(:types AS text[])))
      AND (CAST(:date_from AS timestamptz) IS NULL OR i.occurred_at >= :date_from)
      AND (CAST(:date_to AS timestamptz) IS NULL OR i.occurred_at < :date_to)
)
SELECT ST_AsMVT(t, 'incidents', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
