-- Add a station, or rename or move one; a POI of another kind keeps its id to itself.
INSERT INTO pois (region, poi_id, kind, name, geom)
VALUES (:region, :poi_id, 'station', :name, ST_SetSRID(ST_Point(:x, :y), :srid))
ON CONFLICT (region, poi_id) DO UPDATE
SET name = EXCLUDED.name, geom = EXCLUDED.geom
WHERE pois.kind = 'station'
RETURNING (xmax = 0) AS created
