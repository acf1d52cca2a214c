-- Mark a region's fixes unplaced, on its shard, so the next locate places them all again (after
-- the region's micro-grids were replaced by other means than the boundary import).
UPDATE national.{fixes} f SET area_code = NULL WHERE f.area_code IS NOT NULL
