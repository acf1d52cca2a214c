-- Incidents that came in through an intake channel, in a stable order (source, source_id) so
-- that a seeded sample of them is the same on every load; has_case marks those already opened.
SELECT i.id, i.type, i.source, i.reported_at, i.area_code IS NULL AS outside,
       EXISTS (SELECT 1 FROM cases c WHERE c.region = i.region AND c.incident_id = i.id) AS has_case
FROM incidents i
WHERE i.region = :region
  AND i.source = ANY(CAST(:sources AS text[]))
ORDER BY i.source, i.source_id
