-- One web-mercator vector tile of the hazards open on :as_of, with their assessment score and
-- colour (hazard_score, hazard_colour). The band bounds arrive as :lec_bands and :ls_bands from
-- geo.assessment.band_bounds, the one place the bands are configured.
-- t is MATERIALIZED: inlined, its `geom IS NOT NULL` would be pushed into the scan and each
-- feature clipped and encoded by ST_AsMVTGeom twice (a third of the tile's time).
WITH b AS (
    SELECT * FROM tile_bounds(:z, :x, :y, :srid, :gcj02)
), s AS (
    SELECT h.id, h.name, h.category, h.method, h.area_code, h.geom,
           hazard_score(h.method, h.lec_l, h.lec_e, h.lec_c, h.ls_l, h.ls_s) AS score
    FROM hazards h, b
    WHERE h.region = :region AND h.geom && b.env_src
      AND h.identified_at < CAST(:as_of AS timestamptz)
      AND (h.closed_at IS NULL OR h.closed_at >= CAST(:as_of AS timestamptz))
), t AS MATERIALIZED (
    SELECT s.id, s.name, s.category, s.method, s.area_code, round(s.score::numeric, 1)::float8 AS score,
           hazard_colour(s.method, s.score, CAST(:lec_bands AS float8[]),
                         CAST(:ls_bands AS float8[])) AS colour,
           ST_AsMVTGeom(tile_mercator(s.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM s, b
)
SELECT ST_AsMVT(t, 'hazards', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
