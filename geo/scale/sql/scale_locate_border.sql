-- The border rule's second step for what the interiors left: a fix on a boundary shared by
-- several micro-grids goes to the one with the smallest code. Few fixes remain; the join that
-- finds their candidates is still sent to the shard, the update of those few is row by row.
-- A fix in no micro-grid keeps a null area_code (the third rule).
UPDATE national.{fixes} f
SET area_code = b.code
FROM (
    SELECT DISTINCT ON (p.unit, p.t) p.unit, p.t, m.code
    FROM national.{fixes} p
    JOIN national.{micro_grids} m ON m.region = p.region AND ST_Intersects(m.geom, p.geom)
    WHERE p.area_code IS NULL
    ORDER BY p.unit, p.t, m.code
) b
WHERE f.unit = b.unit AND f.t = b.t AND f.area_code IS NULL
