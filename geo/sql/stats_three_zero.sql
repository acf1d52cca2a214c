-- "Three zeros" (三零) per level-3 grid in the period: how many incidents of the types that count
-- against each goal (incident_types.zero: petition 零上访, accident 零事故, case 零案件) occurred
-- in the grid. The grids listed are those in the area, under it, or holding it (a micro-grid's
-- own grid); all of them when no area is given.
WITH grids AS MATERIALIZED (
    SELECT g.code, g.name
    FROM areas g
    WHERE g.region = :region AND g.level = 'grid3'
      AND (CAST(:area AS text) IS NULL OR EXISTS (
          SELECT 1 FROM areas x
          WHERE x.region = g.region AND x.code = CAST(:area AS text)
            AND (x.code = g.code OR x.code = ANY(g.ancestors) OR g.code = ANY(x.ancestors))
      ))
),
-- Counted once per code on the incidents' paths, then joined to the grids: one pass over the
-- period's incidents whatever the planner's estimates (a nested loop of grids over incidents
-- took minutes on a freshly imported, not yet analysed table).
hits AS MATERIALIZED (
    SELECT path.code,
           count(*) FILTER (WHERE it.zero = 'petition') AS petitions,
           count(*) FILTER (WHERE it.zero = 'accident') AS accidents,
           count(*) FILTER (WHERE it.zero = 'case') AS cases
    FROM incidents i
    JOIN incident_types it ON it.code = i.type AND it.zero IS NOT NULL
    CROSS JOIN LATERAL unnest(i.area_path) AS path(code)
    WHERE i.region = :region
      AND i.occurred_at >= CAST(:start AS timestamptz)
      AND i.occurred_at < CAST(:end AS timestamptz)
    GROUP BY path.code
)
SELECT g.code, g.name,
       COALESCE(h.petitions, 0) AS petitions,
       COALESCE(h.accidents, 0) AS accidents,
       COALESCE(h.cases, 0) AS cases
FROM grids g
LEFT JOIN hits h ON h.code = g.code
ORDER BY g.code
