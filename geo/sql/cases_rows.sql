-- Cases received in [start, end) in an area (or any descendant), one flat row each, for export:
-- every timestamp of the workflow, the areas, and the overdue flag as of :now.
SELECT c.id AS case_id, c.incident_id, i.source, i.source_id, c.platform, i.type,
       it.name_zh AS type_zh, c.state, c.outcome, i.area_code, c.grid_code,
       array_to_string(i.area_path, '/') AS area_path, c.squad, c.department,
       i.occurred_at, c.received_at, c.dispatched_at, c.handled_at, c.closed_at, c.deadline_at,
       COALESCE(c.handled_at, CAST(:now AS timestamptz)) > c.deadline_at AS overdue,
       i.address, i.description
FROM cases c
JOIN incidents i ON i.id = c.incident_id
JOIN incident_types it ON it.code = i.type
WHERE c.region = :region
  AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT d.code FROM areas d WHERE d.region = :region AND d.level = 'micro'
            AND (d.code = :area OR d.ancestors @> ARRAY[CAST(:area AS text)])))
  AND (CAST(:start AS timestamptz) IS NULL OR c.received_at >= CAST(:start AS timestamptz))
  AND (CAST(:end AS timestamptz) IS NULL OR c.received_at < CAST(:end AS timestamptz))
ORDER BY c.received_at, c.id
