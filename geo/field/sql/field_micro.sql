-- The micro-grids at or under :area (all the caller sees when null) with their colour in the
-- latest risk computation as of :at, as a GeoJSON FeatureCollection (EPSG:4326).
WITH run AS (
    SELECT r.id FROM risk_runs r
    WHERE r.region = :region AND r.as_of <= :at
    ORDER BY r.as_of DESC, r.id DESC
    LIMIT 1
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.code,
        'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 6)::json,
        'properties', json_build_object('code', a.code, 'name', a.name, 'colour', s.colour)
    ) ORDER BY a.code), '[]')
)
FROM areas a
LEFT JOIN risk_scores s
       ON s.region = a.region AND s.run_id = (SELECT id FROM run) AND s.area_code = a.code AND s.level = 'micro'
WHERE a.region = :region AND a.level = 'micro'
  AND (CAST(:area AS text) IS NULL OR a.code = :area OR :area = ANY(a.ancestors))
