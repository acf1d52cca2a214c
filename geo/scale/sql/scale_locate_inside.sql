-- Locate a region's fixes not yet placed, first rule of the border rule (geo/locate.py): a fix
-- goes to the micro-grid whose interior contains it. Named by its partitions ({fixes},
-- {micro_grids}), both on the region's shard, the whole UPDATE ... FROM join is sent to that
-- shard as one statement (EXPLAIN: "Foreign Update", the join in its Remote SQL); through the
-- parents it would not be. Micro-grids tile their region (the boundary import checks it), so
-- an interior holds a fix at most once.
UPDATE national.{fixes} f
SET area_code = m.code
FROM national.{micro_grids} m
WHERE m.region = f.region
  AND f.area_code IS NULL
  AND ST_Contains(m.geom, f.geom)
