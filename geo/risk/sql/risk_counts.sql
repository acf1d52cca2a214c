-- Incident counts per micro-grid that occurred in (:start, :end], optionally only those already
-- reported by :known_by (a baseline may use only what was known at the split date).
SELECT i.area_code, count(*) AS n
FROM incidents i
WHERE i.region = :region
  AND i.area_code IS NOT NULL
  AND i.occurred_at > CAST(:start AS timestamptz)
  AND i.occurred_at <= CAST(:end AS timestamptz)
  AND (CAST(:known_by AS timestamptz) IS NULL OR i.reported_at <= CAST(:known_by AS timestamptz))
GROUP BY i.area_code
