-- Cut one region's roads into network edges at every vertex two roads share (or one road
-- passes twice), the way OSM ways meet at shared nodes; roads that only cross (a bridge over a
-- street) stay unconnected. Vertices are first snapped to a grid of :tol metres.
-- Costs are travel seconds per unit kind; -1 bars a direction (pgRouting's convention).
WITH r AS (
    SELECT id, road_id, name, road_class, oneway, maxspeed_kmh, g.geom
    FROM roads,
         LATERAL (SELECT ST_RemoveRepeatedPoints(ST_SnapToGrid(roads.geom, :tol)) AS geom) g
    WHERE region = :region AND ST_NPoints(g.geom) >= 2
),
pts AS (
    SELECT r.id, (d).path[1] AS i, ST_NPoints(r.geom) AS n,
           ST_X((d).geom) AS x, ST_Y((d).geom) AS y, (d).geom AS g
    FROM r, LATERAL ST_DumpPoints(r.geom) AS d
),
shared AS (
    SELECT x, y FROM pts GROUP BY x, y HAVING count(*) > 1
),
cuts AS (
    SELECT p.id, p.i, lead(p.i) OVER (PARTITION BY p.id ORDER BY p.i) AS next_i
    FROM pts p
    LEFT JOIN shared s ON s.x = p.x AND s.y = p.y
    WHERE p.i = 1 OR p.i = p.n OR s.x IS NOT NULL
),
pieces AS (
    SELECT c.id, c.i, ST_MakeLine(p.g ORDER BY p.i) AS geom
    FROM cuts c
    JOIN pts p ON p.id = c.id AND p.i BETWEEN c.i AND c.next_i
    WHERE c.next_i IS NOT NULL
    GROUP BY c.id, c.i
),
priced AS (
    SELECT r.road_id, r.name, r.road_class, r.oneway, p.geom, ST_Length(p.geom) AS len,
           coalesce(r.road_class = ANY(CAST(:barred_foot AS text[])), false) AS no_foot,
           coalesce(r.road_class = ANY(CAST(:barred_bicycle AS text[])), false) AS no_bicycle,
           coalesce(r.road_class = ANY(CAST(:barred_vehicle AS text[])), false) AS no_vehicle,
           least(
               CASE WHEN r.maxspeed_kmh > 0 THEN r.maxspeed_kmh END, :speed_vehicle
           ) / 3.6 AS v_vehicle
    FROM pieces p
    JOIN r ON r.id = p.id
    WHERE ST_Length(p.geom) > 0
)
INSERT INTO routing_edges (
    region, road_id, name, road_class, length_m,
    cost_foot, reverse_cost_foot, cost_bicycle, reverse_cost_bicycle,
    cost_vehicle, reverse_cost_vehicle, geom
)
SELECT :region, road_id, name, road_class, len,
       -- Walkers ignore one-way signs (OSM: oneway applies to vehicles).
       CASE WHEN no_foot THEN -1 ELSE len / (:speed_foot / 3.6) END,
       CASE WHEN no_foot THEN -1 ELSE len / (:speed_foot / 3.6) END,
       CASE WHEN no_bicycle THEN -1 ELSE len / (:speed_bicycle / 3.6) END,
       CASE WHEN no_bicycle OR oneway THEN -1 ELSE len / (:speed_bicycle / 3.6) END,
       CASE WHEN no_vehicle THEN -1 ELSE len / v_vehicle END,
       CASE WHEN no_vehicle OR oneway THEN -1 ELSE len / v_vehicle END,
       geom
FROM priced
