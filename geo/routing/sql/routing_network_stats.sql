-- The size of one region's network and of its main component per unit kind.
SELECT (SELECT count(*) FROM roads WHERE region = :region) AS roads,
       (SELECT count(*) FROM routing_edges WHERE region = :region) AS edges,
       (SELECT coalesce(sum(length_m), 0) FROM routing_edges WHERE region = :region) AS length_m,
       count(*) AS vertices,
       count(*) FILTER (WHERE main_foot) AS main_foot,
       count(*) FILTER (WHERE main_bicycle) AS main_bicycle,
       count(*) FILTER (WHERE main_vehicle) AS main_vehicle
FROM routing_vertices
WHERE region = :region
