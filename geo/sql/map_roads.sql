-- The district's roads as lines in EPSG:4326 (WKB), for a printed map's background.
SELECT ST_AsBinary(ST_Transform(r.geom, 4326)) AS wkb, r.road_class
FROM roads r
WHERE r.region = :region
