-- The address gazetteer's entries: every building with an address and a point inside it
-- (ST_PointOnSurface: unlike the centroid, always inside an L- or U-shaped building).
SELECT b.building_id, b.address, ST_X(p.pt), ST_Y(p.pt)
FROM buildings b
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS pt) p
WHERE b.region = :region AND b.address IS NOT NULL AND btrim(b.address) <> ''
ORDER BY b.building_id
