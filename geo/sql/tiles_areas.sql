-- One web-mercator vector tile of the areas of one level with their names and four-colour risk:
-- the colour and score of the newest risk computation as of the end of :as_of (null when none).
-- t is MATERIALIZED: inlined, its `geom IS NOT NULL` would be pushed into the scan and each
-- feature clipped and encoded by ST_AsMVTGeom twice (a third of the tile's time).
WITH b AS (
    SELECT * FROM tile_bounds(:z, :x, :y, :srid, :gcj02)
), run AS (
    SELECT id FROM risk_runs
    WHERE region = :region AND as_of < :as_of
    ORDER BY as_of DESC, id DESC
    LIMIT 1
), t AS MATERIALIZED (
    SELECT a.code, a.name, a.level, a.parent_code, s.colour, round(s.score::numeric, 1)::float8 AS score,
           ST_AsMVTGeom(tile_mercator(a.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM areas a
    CROSS JOIN b
    LEFT JOIN risk_scores s
           ON s.run_id = (SELECT id FROM run) AND s.region = a.region AND s.area_code = a.code
    WHERE a.region = :region AND a.level = :level AND a.geom && b.env_src
)
SELECT ST_AsMVT(t, 'areas', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
