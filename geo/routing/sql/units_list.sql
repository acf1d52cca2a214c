-- The register of patrol units, each with its station's name, and when its latest fix was.
SELECT u.name, u.kind, u.station, s.name AS station_name, u.shifts,
       (SELECT max(f.t) FROM fixes f WHERE f.region = u.region AND f.unit = u.name) AS last_fix
FROM patrol_units u
LEFT JOIN pois s ON s.region = u.region AND s.poi_id = u.station AND s.kind = 'station'
WHERE u.region = :region
ORDER BY u.name
