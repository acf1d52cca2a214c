-- The rolled-up coverage in cov_areas (coverage_rollup.sql) as a GeoJSON FeatureCollection in
-- EPSG:4326; hours since the last visit count to the period's end or now, whichever is earlier.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'period', json_build_object('from', CAST(:t0 AS timestamptz), 'to', CAST(:t1 AS timestamptz),
                                'label', CAST(:label AS text)),
    'level', CAST(:level AS text),
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.code,
        'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
        'properties', json_build_object(
            'code', a.code,
            'name', a.name,
            'level', a.level,
            'parent_code', a.parent_code,
            'area_m2', round(m.area_m2::numeric, 1),
            'covered_m2', round(m.covered_m2::numeric, 1),
            'covered_share', round((m.covered_m2 / NULLIF(m.area_m2, 0))::numeric, 4),
            'visits', m.visits,
            'deterrent_visits', m.deterrent_visits,
            'dwell_s', round(m.dwell_s::numeric, 1),
            'checkins', m.checkins,
            'micro_grids', m.micro_grids,
            'micro_grids_unvisited', m.micro_grids_unvisited,
            'last_patrol_at', m.last_patrol_at,
            'last_checkin_at', m.last_checkin_at,
            'last_visit_at', GREATEST(m.last_patrol_at, m.last_checkin_at),
            'hours_since_last_visit', round(
                (extract(epoch FROM least(CAST(:t1 AS timestamptz), CAST(:now AS timestamptz))
                         - GREATEST(m.last_patrol_at, m.last_checkin_at))
                 / 3600)::numeric, 2)
        )
    ) ORDER BY a.code), '[]'::json)
)::text
FROM cov_areas m
JOIN areas a ON a.region = :region AND a.code = m.code
