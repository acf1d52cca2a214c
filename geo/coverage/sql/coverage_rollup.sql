-- Coverage of the areas of one level (:level) within the scope (the area :area and its
-- descendants), rolled up from cov_micro into cov_areas. A parent's covered share is the
-- area-weighted mean of its micro-grids' shares (their covered m² over their m²); visits,
-- deterrent visits, dwell and check-ins are sums; the last visit is the latest of any micro-grid
-- in it (a patrol fix or a check-in). At the micro level each row is the micro-grid's own.
-- Read by coverage_geojson.sql (GET /api/coverage) and coverage_gaps.sql (GET /api/gaps), so
-- both report the same numbers.
INSERT INTO cov_areas (code, level, area_m2, covered_m2, visits, deterrent_visits, dwell_s,
                       checkins, micro_grids, micro_grids_unvisited, last_patrol_at,
                       last_checkin_at)
SELECT a.code, a.level,
       sum(m.area_m2), sum(m.covered_m2), sum(m.visits), sum(m.deterrent_visits),
       sum(m.dwell_s), sum(m.checkins), count(*),
       count(*) FILTER (WHERE m.visits = 0 AND m.checkins = 0),
       max(m.last_patrol_at), max(m.last_checkin_at)
FROM areas a
JOIN cov_micro m ON m.code = a.code OR a.code = ANY(m.ancestors)
WHERE a.region = :region AND a.level = :level
  AND (CAST(:area AS text) IS NULL OR a.code = :area OR :area = ANY(a.ancestors))
GROUP BY a.code, a.level
