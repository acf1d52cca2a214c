-- The areas of one level in one computation with their own score: the mean of their
-- micro-grids' scores weighted by area (m²) or by residents (micro-grids with no known
-- population count for nothing; null when none is known). A micro-grid's own score is its mean.
SELECT s.area_code AS code, s.colour,
       CASE WHEN CAST(:weight AS text) = 'population'
            THEN SUM(m.score * ma.population) FILTER (WHERE ma.population > 0)
                 / NULLIF(SUM(ma.population) FILTER (WHERE ma.population > 0), 0)
            ELSE SUM(m.score * ma.area_m2) / NULLIF(SUM(ma.area_m2), 0)
       END AS score
FROM risk_scores s
JOIN areas a ON a.region = s.region AND a.code = s.area_code
JOIN areas ma ON ma.region = a.region AND ma.level = 'micro'
             AND (ma.code = a.code OR a.code = ANY(ma.ancestors))
JOIN risk_scores m ON m.run_id = s.run_id AND m.region = ma.region AND m.area_code = ma.code
WHERE s.run_id = :run_id AND s.level = :level
GROUP BY s.area_code, s.colour
ORDER BY s.area_code
