-- Re-run the micro-grid join for every incident and hazard of a region (after a boundary
-- change), through the same locate_micro as the import; only rows whose area changed are written.
-- Returns the number of incidents and of hazards moved.
WITH inc AS (
    UPDATE incidents t
    SET area_code = l.area_code, area_path = l.area_path, updated_at = now()
    FROM (
        SELECT i.id, m.area_code, COALESCE(m.area_path, '{}') AS area_path
        FROM incidents i
        LEFT JOIN LATERAL locate_micro(i.region, i.geom) m ON true
        WHERE i.region = :region AND i.geom IS NOT NULL
    ) l
    WHERE t.id = l.id AND (t.area_code, t.area_path) IS DISTINCT FROM (l.area_code, l.area_path)
    RETURNING 1
),
haz AS (
    UPDATE hazards t
    SET area_code = l.area_code, area_path = l.area_path, updated_at = now()
    FROM (
        SELECT h.id, m.area_code, COALESCE(m.area_path, '{}') AS area_path
        FROM hazards h
        LEFT JOIN LATERAL locate_micro(h.region, h.geom) m ON true
        WHERE h.region = :region AND h.geom IS NOT NULL
    ) l
    WHERE t.id = l.id AND (t.area_code, t.area_path) IS DISTINCT FROM (l.area_code, l.area_path)
    RETURNING 1
)
SELECT (SELECT count(*) FROM inc), (SELECT count(*) FROM haz)
