-- A stored plan: its result, each leg's edges and length, each unit's path (the legs joined,
-- EPSG:4326 GeoJSON) and each stop's point.
SELECT p.id, p.created_at, p.saved_at, p.based_on, p.request, p.result,
       coalesce((
           SELECT json_agg(json_build_object(
                      'unit_index', l.unit_index, 'seq', l.seq, 'edge_ids', l.edge_ids,
                      'distance_m', round(l.length_m::numeric, 1)
                  ) ORDER BY l.unit_index, l.seq)
           FROM route_legs l WHERE l.region = p.region AND l.plan_id = p.id
       ), '[]') AS legs,
       coalesce((
           SELECT json_agg(json_build_object(
                      'unit_index', u.unit_index,
                      'geometry', ST_AsGeoJSON(ST_Transform(u.g, 4326), 7)::json
                  ) ORDER BY u.unit_index)
           FROM (
               SELECT unit_index, ST_MakeLine(geom ORDER BY seq) AS g
               FROM route_legs
               WHERE region = p.region AND plan_id = p.id AND geom IS NOT NULL
               GROUP BY unit_index
           ) u
       ), '[]') AS paths,
       coalesce((
           SELECT json_agg(json_build_object(
                      'unit_index', s.unit_index, 'seq', s.seq,
                      'geometry', ST_AsGeoJSON(ST_Transform(s.geom, 4326), 7)::json
                  ) ORDER BY s.unit_index, s.seq)
           FROM route_stops s WHERE s.region = p.region AND s.plan_id = p.id
       ), '[]') AS stops
FROM route_plans p
WHERE p.id = :id AND p.region = :region
