-- The micro-grid holding a WGS84 point (the incident border rule: interior first, else the
-- smallest code touching it) and its level-3 grid.
WITH p AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :srid) AS geom
)
SELECT m.code AS micro_code, m.name AS micro_name, g.code AS grid_code, g.name AS grid_name
FROM p
JOIN areas m ON m.region = :region AND m.level = 'micro' AND ST_Intersects(m.geom, p.geom)
LEFT JOIN areas g ON g.region = m.region AND g.level = 'grid3' AND g.code = ANY(m.ancestors)
ORDER BY ST_Contains(m.geom, p.geom) DESC, m.code
LIMIT 1
