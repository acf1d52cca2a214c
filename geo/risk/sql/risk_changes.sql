-- The areas of one level in two computations, with their colour, score and reasons in each
-- (null on the side of a computation that did not hold the area).
SELECT COALESCE(b.area_code, a.area_code) AS code, ar.name,
       a.colour AS colour_before, b.colour AS colour_after,
       a.score AS score_before, b.score AS score_after,
       a.reasons AS reasons_before, b.reasons AS reasons_after
FROM (SELECT * FROM risk_scores WHERE run_id = :before_id AND level = :level) a
FULL JOIN (SELECT * FROM risk_scores WHERE run_id = :after_id AND level = :level) b
       ON b.region = a.region AND b.area_code = a.area_code
JOIN areas ar ON ar.region = COALESCE(b.region, a.region)
             AND ar.code = COALESCE(b.area_code, a.area_code)
ORDER BY code
