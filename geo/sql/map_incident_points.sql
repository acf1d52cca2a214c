-- Located incidents as map points (lon, lat in EPSG:4326) with their type and time, optionally
-- of some types and occurred in [date_from, date_to).
SELECT ST_X(p) AS lon, ST_Y(p) AS lat, i.type, i.occurred_at
FROM incidents i
CROSS JOIN LATERAL ST_Transform(i.geom, 4326) AS p
WHERE i.region = :region AND i.geom IS NOT NULL
  AND (CAST(:types AS text[]) IS NULL OR i.type = ANY(CAST(:types AS text[])))
  AND (CAST(:date_from AS timestamptz) IS NULL OR i.occurred_at >= :date_from)
  AND (CAST(:date_to AS timestamptz) IS NULL OR i.occurred_at < :date_to)
