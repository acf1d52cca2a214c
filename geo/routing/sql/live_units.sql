-- Every unit on duty now: registered for the shift, or with fixes in it. Its latest fix this
-- shift (WGS84), and, when the plan :plan_id names it, how far that fix is from its planned path.
WITH latest AS (
    SELECT DISTINCT ON (f.unit) f.unit, f.unit_kind, f.t, f.geom
    FROM fixes f
    WHERE f.region = :region AND f.t >= :start AND f.t <= :now
    ORDER BY f.unit, f.t DESC
), duty AS (
    SELECT name, kind FROM patrol_units
    WHERE region = :region AND CAST(:shift AS integer) = ANY(shifts)
), planned AS (
    SELECT p.result -> 'units' -> l.unit_index ->> 'name' AS unit, ST_Collect(l.geom) AS path
    FROM route_legs l JOIN route_plans p ON p.region = l.region AND p.id = l.plan_id
    WHERE l.plan_id = :plan_id AND l.geom IS NOT NULL
    GROUP BY p.result, l.unit_index
)
SELECT coalesce(d.name, l.unit) AS name, coalesce(d.kind, l.unit_kind) AS kind,
       d.name IS NOT NULL AS registered, l.t AS fixed_at,
       ST_X(ST_Transform(l.geom, 4326)) AS lon, ST_Y(ST_Transform(l.geom, 4326)) AS lat,
       pl.unit IS NOT NULL AS planned, ST_Distance(l.geom, pl.path) AS off_m
FROM duty d
FULL JOIN latest l ON l.unit = d.name
LEFT JOIN planned pl ON pl.unit = coalesce(d.name, l.unit)
ORDER BY 1
