-- How many areas each level holds, and the district's extent in EPSG:4326 (west, south, east,
-- north) for framing a map.
SELECT a.level, count(*) AS n,
       ST_XMin(ST_Transform(ST_SetSRID(ST_Extent(a.geom)::geometry, :srid), 4326)) AS west,
       ST_YMin(ST_Transform(ST_SetSRID(ST_Extent(a.geom)::geometry, :srid), 4326)) AS south,
       ST_XMax(ST_Transform(ST_SetSRID(ST_Extent(a.geom)::geometry, :srid), 4326)) AS east,
       ST_YMax(ST_Transform(ST_SetSRID(ST_Extent(a.geom)::geometry, :srid), 4326)) AS north
FROM areas a
WHERE a.region = :region
GROUP BY a.level
