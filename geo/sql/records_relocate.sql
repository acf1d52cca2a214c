-- Re-run the micro-grid join for every incident, hazard, patrol fix and check-in of a region
-- (after a boundary change), through the same locate_micro as the imports; only rows whose area
-- changed are written. Returns the number of incidents, hazards, fixes and check-ins moved.
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
),
fix AS (
    UPDATE fixes t
    SET area_code = l.area_code
    FROM (
        SELECT f.region, f.unit, f.t, m.area_code
        FROM fixes f
        LEFT JOIN LATERAL locate_micro(f.region, f.geom) m ON true
        WHERE f.region = :region
    ) l
    WHERE t.region = l.region AND t.unit = l.unit AND t.t = l.t
      AND t.area_code IS DISTINCT FROM l.area_code
    RETURNING 1
),
chk AS (
    UPDATE checkins t
    SET area_code = l.area_code
    FROM (
        SELECT c.id, m.area_code
        FROM checkins c
        LEFT JOIN LATERAL locate_micro(c.region, c.geom) m ON true
        WHERE c.region = :region
    ) l
    WHERE t.id = l.id AND t.area_code IS DISTINCT FROM l.area_code
    RETURNING 1
)
SELECT (SELECT count(*) FROM inc), (SELECT count(*) FROM haz),
       (SELECT count(*) FROM fix), (SELECT count(*) FROM chk)
