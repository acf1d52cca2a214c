-- One vertex per distinct edge end point of a region, then each edge's source and target.
WITH ends AS (
    SELECT ST_StartPoint(geom) AS g FROM routing_edges WHERE region = :region
    UNION ALL
    SELECT ST_EndPoint(geom) FROM routing_edges WHERE region = :region
)
INSERT INTO routing_vertices (region, geom)
SELECT DISTINCT ON (ST_X(g), ST_Y(g)) :region, g
FROM ends
