-- Mark the vertices of the largest strongly connected component for one unit kind: only
-- those can be reached from and return to every other, so stops snap to them.
WITH comp AS (
    SELECT node, component
    FROM pgr_strongComponents(format(
        'SELECT id, source, target, %I AS cost, %I AS reverse_cost '
        'FROM routing_edges WHERE region = %L',
        CAST(:cost_column AS text), CAST(:reverse_cost_column AS text), CAST(:region AS text)
    ))
),
biggest AS (
    SELECT component FROM comp GROUP BY component ORDER BY count(*) DESC, component LIMIT 1
),
main AS (
    SELECT node FROM comp WHERE component = (SELECT component FROM biggest)
)
UPDATE routing_vertices v
SET main_foot = CASE WHEN CAST(:kind AS text) = 'foot' THEN v.id IN (SELECT node FROM main) ELSE main_foot END,
    main_bicycle = CASE
        WHEN CAST(:kind AS text) = 'bicycle' THEN v.id IN (SELECT node FROM main) ELSE main_bicycle
    END,
    main_vehicle = CASE
        WHEN CAST(:kind AS text) = 'vehicle' THEN v.id IN (SELECT node FROM main) ELSE main_vehicle
    END
WHERE v.region = :region
