-- Stations and school gates of a region, as points in the store's SRID.
SELECT poi_id, kind, name, props, ST_X(geom) AS x, ST_Y(geom) AS y
FROM pois
WHERE region = :region AND kind = ANY(CAST(:kinds AS text[]))
ORDER BY poi_id
