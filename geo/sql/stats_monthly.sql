-- Cases received per local calendar month in the period and in the same period a year earlier,
-- with how many of them are resolved now: the trend charts' series.
SELECT to_char(c.received_at AT TIME ZONE :zone, 'YYYY-MM') AS month,
       c.received_at >= CAST(:start AS timestamptz) AS current,
       count(*) AS received,
       count(*) FILTER (WHERE c.outcome = 'resolved') AS resolved
FROM cases c
JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
WHERE c.region = :region
  AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
  AND ((c.received_at >= CAST(:start AS timestamptz) AND c.received_at < CAST(:end AS timestamptz))
       OR (c.received_at >= CAST(:prev_start AS timestamptz)
           AND c.received_at < CAST(:prev_end AS timestamptz)))
GROUP BY 1, 2
ORDER BY 1
