-- The gap list: areas of cov_areas (the level :level rolled up by coverage_rollup.sql from
-- cov_micro, filled for the coverage window [:c0, :at)) that need a visit, as a GeoJSON
-- FeatureCollection in EPSG:4326. An area is a gap for any of:
--   weekly    a micro-grid with no patrol fix and no grid-head check-in in [:w0, :at) (the
--             weekly visit rule, 每周遍访);
--   shift     a micro-grid coloured red or orange by the latest risk computation as of :at, and
--             no patrol fix and no check-in since the start of the current shift (:s0);
--   coverage  an area of the level whose patrol coverage over the coverage window is below
--             :min_share of its area (above the micro level, its micro-grids' covered m² over
--             their m²: the area-weighted mean share of GET /api/coverage).
-- The visit rules are about micro-grids, so above the micro level only coverage gaps are listed.
-- Ranked by risk colour (red, orange, yellow, blue, none), then by time since the last visit
-- (never visited first, then the longest ago), then by code.
WITH run AS (
    SELECT r.id
    FROM risk_runs r
    WHERE r.region = :region AND r.as_of <= :at
    ORDER BY r.as_of DESC, r.id DESC
    LIMIT 1
),
colours AS (
    SELECT s.area_code AS code, s.colour
    FROM risk_scores s
    JOIN run ON s.run_id = run.id
    WHERE s.level = :level
),
flagged AS (
    SELECT m.*, c.colour,
           GREATEST(m.last_patrol_at, m.last_checkin_at) AS last_visit_at,
           m.covered_m2 / NULLIF(m.area_m2, 0) AS share,
           array_remove(ARRAY[
               CASE WHEN m.level = 'micro'
                         AND (GREATEST(m.last_patrol_at, m.last_checkin_at) IS NULL
                              OR GREATEST(m.last_patrol_at, m.last_checkin_at) < :w0)
                    THEN 'weekly' END,
               CASE WHEN m.level = 'micro' AND c.colour IN ('red', 'orange')
                         AND (GREATEST(m.last_patrol_at, m.last_checkin_at) IS NULL
                              OR GREATEST(m.last_patrol_at, m.last_checkin_at) < :s0)
                    THEN 'shift' END,
               CASE WHEN m.covered_m2 < :min_share * m.area_m2 THEN 'coverage' END
           ], NULL) AS gaps
    FROM cov_areas m
    LEFT JOIN colours c ON c.code = m.code
),
ranked AS (
    SELECT f.*,
           row_number() OVER (
               ORDER BY COALESCE(array_position(ARRAY['red', 'orange', 'yellow', 'blue'],
                                                f.colour), 5),
                        f.last_visit_at ASC NULLS FIRST,
                        f.code
           ) AS rank
    FROM flagged f
    WHERE cardinality(f.gaps) > 0
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'at', CAST(:at AS timestamptz),
    'level', CAST(:level AS text),
    'week', json_build_object('from', CAST(:w0 AS timestamptz), 'to', CAST(:at AS timestamptz)),
    'coverage_window',
        json_build_object('from', CAST(:c0 AS timestamptz), 'to', CAST(:at AS timestamptz)),
    'shift', json_build_object('from', CAST(:s0 AS timestamptz), 'to', CAST(:s1 AS timestamptz),
                               'label', CAST(:shift_label AS text)),
    'counts', json_build_object(
        'weekly', count(*) FILTER (WHERE 'weekly' = ANY(r.gaps)),
        'shift', count(*) FILTER (WHERE 'shift' = ANY(r.gaps)),
        'coverage', count(*) FILTER (WHERE 'coverage' = ANY(r.gaps))
    ),
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'id', r.code,
        'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
        'properties', json_build_object(
            'rank', r.rank,
            'code', r.code,
            'name', a.name,
            'level', a.level,
            'parent_code', a.parent_code,
            'ancestors', a.ancestors,
            'colour', r.colour,
            'gaps', r.gaps,
            'last_visit_at', r.last_visit_at,
            'last_patrol_at', r.last_patrol_at,
            'last_checkin_at', r.last_checkin_at,
            'hours_since_last_visit',
                round((extract(epoch FROM CAST(:at AS timestamptz) - r.last_visit_at) / 3600)
                      ::numeric, 2),
            'covered_share', round(r.share::numeric, 4),
            'visits', r.visits,
            'checkins', r.checkins
        )
    ) ORDER BY r.rank) FILTER (WHERE r.code IS NOT NULL), '[]'::json)
)::text
FROM ranked r
JOIN areas a ON a.region = :region AND a.code = r.code
