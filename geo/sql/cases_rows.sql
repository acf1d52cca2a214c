-- Cases received in [start, end) in an area (or any descendant), one flat row each, for export:
-- every timestamp of the workflow, the areas by code and name (the level-2 grid is the grid2
-- among the codes of the incident's area_path), and the overdue flag as of :now. The areas are
-- read under the caller's row-level security: a scoped caller gets no name (nor code) of an
-- area above their scope.
SELECT c.id AS case_id, c.incident_id, i.source, i.source_id, c.platform, i.type,
       it.name_zh AS type_zh, c.state, c.outcome,
       g2.code AS grid2_code, g2.name AS grid2_name, c.grid_code, g3.name AS grid3_name,
       i.area_code, m.name AS micro_name,
       array_to_string(i.area_path, '/') AS area_path, c.squad, c.department,
       i.occurred_at, c.received_at, c.dispatched_at, c.handled_at, c.closed_at, c.deadline_at,
       COALESCE(c.handled_at, CAST(:now AS timestamptz)) > c.deadline_at AS overdue,
       i.address, i.description
FROM cases c
JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
JOIN incident_types it ON it.code = i.type
LEFT JOIN areas m ON m.region = i.region AND m.code = i.area_code
LEFT JOIN areas g3 ON g3.region = c.region AND g3.code = c.grid_code
LEFT JOIN LATERAL (
    SELECT a.code, a.name FROM areas a
    WHERE a.region = i.region AND a.level = 'grid2' AND a.code = ANY(i.area_path)
    LIMIT 1) g2 ON true
WHERE c.region = :region
  AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
  AND (CAST(:start AS timestamptz) IS NULL OR c.received_at >= CAST(:start AS timestamptz))
  AND (CAST(:end AS timestamptz) IS NULL OR c.received_at < CAST(:end AS timestamptz))
ORDER BY c.received_at, c.id
