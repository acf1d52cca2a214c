-- A stored plan as a GeoJSON FeatureCollection in EPSG:4326: one path per unit (its legs
-- joined) and one point per station and stop, with the plan's properties.
WITH p AS (
    SELECT id, result FROM route_plans WHERE id = :id AND region = :region
),
paths AS (
    SELECT l.unit_index, ST_MakeLine(l.geom ORDER BY l.seq) AS g, sum(l.length_m) AS len
    FROM route_legs l
    JOIN p ON l.plan_id = p.id
    GROUP BY l.unit_index
),
features AS (
    SELECT 0 AS grp, pa.unit_index, 0 AS seq,
           json_build_object(
               'type', 'Feature',
               'geometry', ST_AsGeoJSON(ST_Transform(pa.g, 4326), 7)::json,
               'properties', ((p.result -> 'units' -> pa.unit_index) - 'stops' - 'legs')
                   || jsonb_build_object(
                       'feature', 'path', 'unit_index', pa.unit_index,
                       'distance_m', round(pa.len::numeric, 1)
                   )
           ) AS f
    FROM paths pa, p
    UNION ALL
    SELECT 1, s.unit_index, s.seq,
           json_build_object(
               'type', 'Feature',
               'geometry', ST_AsGeoJSON(ST_Transform(s.geom, 4326), 7)::json,
               'properties', CASE
                   WHEN s.candidate_id IS NULL THEN jsonb_build_object(
                       'feature', 'station', 'unit_index', s.unit_index, 'seq', s.seq,
                       'unit', p.result -> 'units' -> s.unit_index -> 'name',
                       'station', p.result -> 'units' -> s.unit_index -> 'station'
                   )
                   ELSE (p.result -> 'units' -> s.unit_index -> 'stops' -> (s.seq - 1))
                       || jsonb_build_object(
                           'feature', 'stop', 'unit_index', s.unit_index,
                           'unit', p.result -> 'units' -> s.unit_index -> 'name'
                       )
               END
           )
    FROM route_stops s
    JOIN p ON s.plan_id = p.id
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'plan_id', p.id,
    'features', coalesce((SELECT json_agg(f ORDER BY grp, unit_index, seq) FROM features), '[]')
)::text
FROM p
