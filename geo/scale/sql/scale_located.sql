-- A region's fixes per micro-grid after locating (NULL: in none), on its shard.
SELECT f.area_code, count(*) AS n
FROM national.{fixes} f
GROUP BY f.area_code
