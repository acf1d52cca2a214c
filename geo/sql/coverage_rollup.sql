-- Coverage of the areas of one level within the scope (the area :area and its descendants),
-- rolled up from cov_micro, as a GeoJSON FeatureCollection in EPSG:4326. A parent's covered
-- share is the area-weighted mean of its micro-grids' shares (their covered m² over their m²);
-- visits, deterrent visits, dwell and check-ins are sums; the last visit is the latest of any
-- micro-grid in it (a patrol fix or a check-in), and hours since it count to the period's end
-- or now, whichever is earlier.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'period', json_build_object('from', CAST(:t0 AS timestamptz), 'to', CAST(:t1 AS timestamptz),
                                'label', CAST(:label AS text)),
    'level', CAST(:level AS text),
    'features', COALESCE(json_agg(feature ORDER BY code), '[]'::json)
)::text
FROM (
    SELECT a.code,
           json_build_object(
               'type', 'Feature',
               'id', a.code,
               'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
               'properties', json_build_object(
                   'code', a.code,
                   'name', a.name,
                   'level', a.level,
                   'parent_code', a.parent_code,
                   'area_m2', round(sum(m.area_m2)::numeric, 1),
                   'covered_m2', round(sum(m.covered_m2)::numeric, 1),
                   'covered_share',
                       round((sum(m.covered_m2) / NULLIF(sum(m.area_m2), 0))::numeric, 4),
                   'visits', sum(m.visits),
                   'deterrent_visits', sum(m.deterrent_visits),
                   'dwell_s', round(sum(m.dwell_s)::numeric, 1),
                   'checkins', sum(m.checkins),
                   'micro_grids', count(*),
                   'micro_grids_unvisited',
                       count(*) FILTER (WHERE m.visits = 0 AND m.checkins = 0),
                   'last_patrol_at', max(m.last_patrol_at),
                   'last_checkin_at', max(m.last_checkin_at),
                   'last_visit_at', max(GREATEST(m.last_patrol_at, m.last_checkin_at)),
                   'hours_since_last_visit', round(
                       (extract(epoch FROM least(CAST(:t1 AS timestamptz), now())
                                - max(GREATEST(m.last_patrol_at, m.last_checkin_at)))
                        / 3600)::numeric, 2)
               )
           ) AS feature
    FROM areas a
    JOIN cov_micro m ON m.code = a.code OR a.code = ANY(m.ancestors)
    WHERE a.region = :region AND a.level = :level
      AND (CAST(:area AS text) IS NULL OR a.code = :area OR :area = ANY(a.ancestors))
    GROUP BY a.code, a.name, a.level, a.parent_code, a.geom
) f
