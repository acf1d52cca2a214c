-- For each unit of the staged batch, its last stored fix before the batch's first fix of that
-- unit: the anchor of the speed check, so live batches from a device are cleaned as one stream.
SELECT s.unit, f.t, ST_X(f.geom) AS x, ST_Y(f.geom) AS y
FROM (SELECT unit, min(t) AS t0 FROM staged_fixes GROUP BY unit) s
CROSS JOIN LATERAL (
    SELECT t, geom
    FROM fixes
    WHERE region = :region AND unit = s.unit AND t < s.t0
    ORDER BY t DESC
    LIMIT 1
) f
