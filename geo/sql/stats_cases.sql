-- Case figures of one area (and everything under it) for the period [start, end) and the same
-- period a year earlier [prev_start, prev_end), in one pass: totals, by type, by intake platform
-- and by responsible grid (GROUPING SETS). A case counts in the period it was received in;
-- "resolved" is its outcome now (resolved, or verified after being resolved); the time to
-- resolve is handled_at - received_at of the resolved ones; overdue is
-- coalesce(handled_at, :now) > deadline_at (geo/cases.py).
WITH scoped AS (
    SELECT c.platform, c.grid_code, c.outcome, c.received_at, c.handled_at, c.deadline_at, i.type,
           CASE WHEN c.received_at >= CAST(:start AS timestamptz) THEN 'current' ELSE 'previous'
           END AS period
    FROM cases c
    JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
    WHERE c.region = :region
      AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
      AND ((c.received_at >= CAST(:start AS timestamptz)
            AND c.received_at < CAST(:end AS timestamptz))
           OR (c.received_at >= CAST(:prev_start AS timestamptz)
               AND c.received_at < CAST(:prev_end AS timestamptz)))
)
SELECT period,
       CASE WHEN GROUPING(type) = 0 THEN 'type'
            WHEN GROUPING(platform) = 0 THEN 'platform'
            WHEN GROUPING(grid_code) = 0 THEN 'grid'
            ELSE 'total' END AS dimension,
       COALESCE(type, platform, grid_code) AS key,
       count(*) AS received,
       count(*) FILTER (WHERE outcome = 'resolved') AS resolved,
       count(*) FILTER (WHERE COALESCE(handled_at, CAST(:now AS timestamptz)) > deadline_at)
           AS overdue,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM handled_at - received_at) / 3600.0
       ) FILTER (WHERE outcome = 'resolved') AS median_hours
FROM scoped
GROUP BY GROUPING SETS ((period), (period, type), (period, platform), (period, grid_code))
