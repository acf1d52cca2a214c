-- The police stations (POIs of kind station), in WGS84 for the pages, and how many units each
-- registered unit calls home.
SELECT p.poi_id, p.name,
       ST_X(ST_Transform(p.geom, 4326)) AS lon, ST_Y(ST_Transform(p.geom, 4326)) AS lat,
       (SELECT count(*) FROM patrol_units u
        WHERE u.region = p.region AND u.station = p.poi_id) AS units
FROM pois p
WHERE p.region = :region AND p.kind = 'station'
ORDER BY p.poi_id
