-- One web-mercator vector tile of the hazards open on :as_of, with their assessment score and
-- colour. The band bounds arrive as parameters from geo/assessment.py's bands(), the one place the
-- bands are configured: a score >= the red bound is red, and so on down to blue.
WITH b AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Expand(
               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), :srid),
               CASE WHEN :gcj02 THEN 1000 ELSE 0 END
           ) AS env_src
), s AS (
    SELECT h.id, h.name, h.category, h.method, h.area_code, h.geom,
           CASE h.method WHEN 'LEC' THEN h.lec_l * h.lec_e * h.lec_c
                         ELSE (h.ls_l * h.ls_s)::float8 END AS score
    FROM hazards h, b
    WHERE h.region = :region AND h.geom && b.env_src
      AND h.identified_at < CAST(:as_of AS timestamptz)
      AND (h.closed_at IS NULL OR h.closed_at >= CAST(:as_of AS timestamptz))
), t AS (
    SELECT s.id, s.name, s.category, s.method, s.area_code, round(s.score::numeric, 1)::float8 AS score,
           CASE WHEN s.score >= CASE s.method WHEN 'LEC' THEN :lec_red ELSE :ls_red END THEN 'red'
                WHEN s.score >= CASE s.method WHEN 'LEC' THEN :lec_orange ELSE :ls_orange END
                    THEN 'orange'
                WHEN s.score >= CASE s.method WHEN 'LEC' THEN :lec_yellow ELSE :ls_yellow END
                    THEN 'yellow'
                ELSE 'blue' END AS colour,
           ST_AsMVTGeom(tile_mercator(s.geom, :gcj02), b.env, 4096, 64, true) AS geom
    FROM s, b
)
SELECT ST_AsMVT(t, 'hazards', 4096, 'geom') FROM t WHERE t.geom IS NOT NULL
