-- The red and orange micro-grids of the region's latest risk computation, with their score
-- and whether they are a significant hot spot, each at a point inside it.
WITH run AS (
    SELECT id FROM risk_runs WHERE region = :region ORDER BY as_of DESC, id DESC LIMIT 1
)
SELECT s.area_code, a.name, s.colour, s.score, coalesce(s.significant, false) AS hotspot,
       ST_X(p.g) AS x, ST_Y(p.g) AS y
FROM risk_scores s
JOIN run ON s.run_id = run.id
JOIN areas a ON a.region = s.region AND a.code = s.area_code
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(a.geom) AS g) p
WHERE s.region = :region AND s.level = 'micro' AND s.colour IN ('red', 'orange')
ORDER BY s.score DESC, s.area_code
