-- Drop one region's network before it is built again from its roads.
WITH gone AS (
    DELETE FROM routing_edges WHERE region = :region
)
DELETE FROM routing_vertices WHERE region = :region
