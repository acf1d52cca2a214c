-- Each edge's source and target vertex (end points were snapped, so coordinates match exactly;
-- joining on them lets PostgreSQL hash-join instead of probing the index per edge).
WITH v AS (
    SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y FROM routing_vertices WHERE region = :region
),
ends AS (
    SELECT id,
           ST_X(ST_StartPoint(geom)) AS x0, ST_Y(ST_StartPoint(geom)) AS y0,
           ST_X(ST_EndPoint(geom)) AS x1, ST_Y(ST_EndPoint(geom)) AS y1
    FROM routing_edges
    WHERE region = :region
)
UPDATE routing_edges e
SET source = vs.id, target = vt.id
FROM ends
JOIN v vs ON vs.x = ends.x0 AND vs.y = ends.y0
JOIN v vt ON vt.x = ends.x1 AND vt.y = ends.y1
WHERE e.id = ends.id
