-- The nearest vertex of the main connected part for one unit kind to each point (x, y in the
-- store's SRID), with the distance; no vertex (an empty network) gives nulls.
SELECT u.i, v.id AS vertex, ST_Distance(v.geom, p.g) AS distance_m
FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS u(x, y, i)
CROSS JOIN LATERAL (
    SELECT ST_SetSRID(ST_MakePoint(u.x, u.y), CAST(:srid AS integer)) AS g
) p
LEFT JOIN LATERAL (
    SELECT id, geom
    FROM routing_vertices
    WHERE region = :region
      AND CASE CAST(:kind AS text)
              WHEN 'foot' THEN main_foot
              WHEN 'bicycle' THEN main_bicycle
              ELSE main_vehicle
          END
    ORDER BY geom <-> p.g
    LIMIT 1
) v ON true
ORDER BY u.i
