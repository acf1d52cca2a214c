-- The patrol tracks of the period [:t0, :t1) as a GeoJSON FeatureCollection in EPSG:4326: one
-- line per track, split as coverage_micro.sql splits them (a gap over :gap_s or a change of unit
-- kind), optionally only some units and only fixes inside one area's subtree.
WITH f AS (
    SELECT x.unit, x.unit_kind, x.t, x.geom,
           lag(x.t) OVER w AS prev_t,
           lag(x.unit_kind) OVER w AS prev_kind
    FROM fixes x
    WHERE x.region = :region AND x.t >= :t0 AND x.t < :t1
      AND (CAST(:units AS text[]) IS NULL OR x.unit = ANY(CAST(:units AS text[])))
      AND (CAST(:area AS text) IS NULL OR x.area_code IN (
              SELECT a.code FROM areas a
              WHERE a.region = :region AND a.level = 'micro'
                AND (a.code = :area OR :area = ANY(a.ancestors))
          ))
    WINDOW w AS (PARTITION BY x.unit ORDER BY x.t)
),
tracked AS (
    SELECT unit, unit_kind, t, geom,
           sum(CASE WHEN prev_t IS NULL
                         OR t - prev_t > make_interval(secs => :gap_s)
                         OR unit_kind <> prev_kind
                    THEN 1 ELSE 0 END) OVER (PARTITION BY unit ORDER BY t) AS track
    FROM f
),
lines AS (
    SELECT unit, min(unit_kind) AS unit_kind, track, count(*) AS fixes,
           min(t) AS started, max(t) AS ended,
           ST_Simplify(ST_MakeLine(geom ORDER BY t), :simplify_m) AS geom
    FROM tracked
    GROUP BY unit, track
    HAVING count(*) > 1
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(ST_Transform(geom, 4326), 6)::json,
        'properties', json_build_object(
            'unit', unit, 'unit_kind', unit_kind, 'track', track, 'fixes', fixes,
            'started', started, 'ended', ended
        )
    ) ORDER BY unit, track), '[]'::json)
)::text
FROM lines
