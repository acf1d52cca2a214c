-- Incidents of every type that occurred in an area (and under it) in the period and in the same
-- period a year earlier: the register as a whole, not only cases (police calls, fires, ...).
SELECT it.code AS type, it.name_zh, it.name_en,
       count(i.id) FILTER (WHERE i.occurred_at >= CAST(:start AS timestamptz)) AS current,
       count(i.id) FILTER (WHERE i.occurred_at < CAST(:start AS timestamptz)) AS previous
FROM incident_types it
LEFT JOIN incidents i
  ON i.type = it.code
 AND i.region = :region
 AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
 AND ((i.occurred_at >= CAST(:start AS timestamptz) AND i.occurred_at < CAST(:end AS timestamptz))
      OR (i.occurred_at >= CAST(:prev_start AS timestamptz)
          AND i.occurred_at < CAST(:prev_end AS timestamptz)))
GROUP BY it.code, it.name_zh, it.name_en
HAVING count(i.id) > 0
ORDER BY count(i.id) DESC, it.code
