-- The stays of each unit of a plan at each of its planned stops, from its GPS fixes: maximal
-- runs of consecutive fixes within the stop's radius (the unit's cover radius plus the stop's
-- distance from the road network, which the planner routed to), a run broken where the fixes
-- are further apart than the track gap. One row per run: its first and last fix.
WITH units AS (
    SELECT * FROM unnest(CAST(:units AS text[]), CAST(:covers AS float8[]))
        WITH ORDINALITY AS u(name, cover, ord)
), stops AS (
    SELECT s.unit_index, s.seq, s.geom, u.name,
           u.cover + coalesce((
               SELECT ST_Distance(v.geom, s.geom) FROM routing_vertices v
               WHERE v.region = :region ORDER BY v.geom <-> s.geom LIMIT 1
           ), 0) AS radius
    FROM route_stops s
    JOIN units u ON u.ord = s.unit_index + 1
    WHERE s.region = :region AND s.plan_id = :plan_id AND s.candidate_id IS NOT NULL
), marked AS (
    SELECT s.unit_index, s.seq, s.radius, f.t,
           ST_DWithin(f.geom, s.geom, s.radius) AS inside,
           lag(ST_DWithin(f.geom, s.geom, s.radius)) OVER w AS was_inside,
           lag(f.t) OVER w AS prev_t
    FROM stops s
    JOIN fixes f ON f.region = :region AND f.unit = s.name AND f.t >= :start AND f.t < :until
    WINDOW w AS (PARTITION BY s.unit_index, s.seq ORDER BY f.t)
), runs AS (
    SELECT *, sum(CASE WHEN was_inside IS DISTINCT FROM inside
                         OR t - prev_t > make_interval(secs => :gap_s) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY unit_index, seq ORDER BY t) AS run
    FROM marked
)
SELECT unit_index, seq, min(radius) AS radius, min(t) AS first, max(t) AS last
FROM runs
WHERE inside
GROUP BY unit_index, seq, run
ORDER BY unit_index, seq, first
