-- The incident a case is opened on, with its type, source, when it became known and the
-- responsible level-3 grid (the grid3 among the codes of its area_path; null outside every area).
SELECT i.id, i.type, i.source, i.reported_at,
       (SELECT g.code FROM areas g
        WHERE g.region = i.region AND g.level = 'grid3' AND g.code = ANY(i.area_path)
        LIMIT 1) AS grid_code,
       (SELECT c.id FROM cases c WHERE c.region = i.region AND c.incident_id = i.id) AS case_id
FROM incidents i
WHERE i.region = :region AND i.id = :incident_id
