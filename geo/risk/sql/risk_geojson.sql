-- The areas of one computation as a GeoJSON FeatureCollection in EPSG:4326, optionally one
-- level, each with its colour, score, reasons and its colour in the previous computation.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'run', json_build_object('id', r.id, 'as_of', r.as_of, 'computed_at', r.computed_at,
                             'previous_id', CAST(:previous_id AS bigint)),
    'features', COALESCE((
        SELECT json_agg(f.feature ORDER BY f.rank, f.code)
        FROM (
            SELECT s.area_code AS code,
                   array_position(CAST(:levels AS text[]), s.level) AS rank,
                   json_build_object(
                       'type', 'Feature',
                       'id', s.area_code,
                       'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
                       'properties', json_build_object(
                           'code', s.area_code,
                           'name', a.name,
                           'level', s.level,
                           'parent_code', a.parent_code,
                           'colour', s.colour,
                           'score', round(s.score::numeric, 2),
                           'hazard_colour', s.hazard_colour,
                           'incident_colour', s.incident_colour,
                           'previous_colour', p.colour,
                           'reasons', s.reasons
                       )
                   ) AS feature
            FROM risk_scores s
            JOIN areas a ON a.region = s.region AND a.code = s.area_code
            LEFT JOIN risk_scores p
                   ON p.region = s.region AND p.run_id = CAST(:previous_id AS bigint)
                  AND p.area_code = s.area_code
            WHERE s.region = r.region AND s.run_id = r.id
              AND (CAST(:level AS text) IS NULL OR s.level = :level)
        ) f
    ), '[]'::json)
)::text
FROM risk_runs r
WHERE r.id = :run_id
