-- For each unit of the staged batch, its stored fixes in the :gap_s seconds before the batch's
-- first fix of that unit: the context of the speed check, so live batches from a device are
-- cleaned as one stream (geo/coverage/tracks.py). Older fixes belong to another track.
SELECT s.unit, f.unit_kind, f.t, ST_X(f.geom) AS x, ST_Y(f.geom) AS y
FROM (SELECT unit, min(t) AS t0 FROM staged_fixes GROUP BY unit) s
CROSS JOIN LATERAL (
    SELECT unit_kind, t, geom
    FROM fixes
    WHERE region = :region AND unit = s.unit
      AND t >= s.t0 - make_interval(secs => :gap_s) AND t < s.t0
) f
ORDER BY s.unit, f.t
