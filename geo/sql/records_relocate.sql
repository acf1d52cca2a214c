-- Re-run the micro-grid join for the incidents, hazards, patrol fixes and check-ins of a region
-- that a boundary change can have moved, through the same locate_micro as the imports; only
-- rows whose area changed are written. Returns the number of incidents, hazards, fixes and
-- check-ins moved.
--
-- :moved (text[]) are the micro-grids inserted or given a new shape, :reparented (text[]) the
-- areas of any level given a new parent; both NULL: every record (gridsafe locate, after areas
-- changed by other means). A record can only change micro-grid if it is filed under a moved
-- micro-grid now or lies in one's new shape (GiST), and only change its ancestors if one of
-- them was re-parented; nothing else is read, so a boundary change of one street's micro-grids
-- touches that street's records, not the months of patrol fixes of the whole region.
WITH moved AS (
    SELECT a.code, a.geom FROM areas a
    WHERE a.region = :region AND a.level = 'micro'
      AND a.code = ANY(CAST(:moved AS text[]))
),
inc_todo AS (
    SELECT i.id FROM incidents i
    WHERE i.region = :region AND i.geom IS NOT NULL
      AND (CAST(:moved AS text[]) IS NULL
           OR i.area_code = ANY(CAST(:moved AS text[]))
           OR i.area_path && CAST(:reparented AS text[]))
    UNION
    SELECT i.id FROM moved m JOIN incidents i ON ST_Intersects(m.geom, i.geom)
    WHERE i.region = :region
),
inc AS (
    UPDATE incidents t
    SET area_code = l.area_code, area_path = l.area_path, updated_at = now()
    FROM (
        SELECT i.id, m.area_code, COALESCE(m.area_path, '{}') AS area_path
        FROM inc_todo d
        JOIN incidents i ON i.id = d.id
        LEFT JOIN LATERAL locate_micro(i.region, i.geom) m ON true
    ) l
    WHERE t.id = l.id AND (t.area_code, t.area_path) IS DISTINCT FROM (l.area_code, l.area_path)
    RETURNING 1
),
haz_todo AS (
    SELECT h.id FROM hazards h
    WHERE h.region = :region AND h.geom IS NOT NULL
      AND (CAST(:moved AS text[]) IS NULL
           OR h.area_code = ANY(CAST(:moved AS text[]))
           OR h.area_path && CAST(:reparented AS text[]))
    UNION
    SELECT h.id FROM moved m JOIN hazards h ON ST_Intersects(m.geom, h.geom)
    WHERE h.region = :region
),
haz AS (
    UPDATE hazards t
    SET area_code = l.area_code, area_path = l.area_path, updated_at = now()
    FROM (
        SELECT h.id, m.area_code, COALESCE(m.area_path, '{}') AS area_path
        FROM haz_todo d
        JOIN hazards h ON h.id = d.id
        LEFT JOIN LATERAL locate_micro(h.region, h.geom) m ON true
    ) l
    WHERE t.id = l.id AND (t.area_code, t.area_path) IS DISTINCT FROM (l.area_code, l.area_path)
    RETURNING 1
),
-- Fixes and check-ins keep only their micro-grid (no ancestors): re-parenting moves none.
fix_todo AS (
    SELECT f.unit, f.t FROM fixes f
    WHERE f.region = :region
      AND (CAST(:moved AS text[]) IS NULL OR f.area_code = ANY(CAST(:moved AS text[])))
    UNION
    SELECT f.unit, f.t FROM moved m JOIN fixes f ON ST_Intersects(m.geom, f.geom)
    WHERE f.region = :region
),
fix AS (
    UPDATE fixes t
    SET area_code = l.area_code
    FROM (
        SELECT f.region, f.unit, f.t, m.area_code
        FROM fix_todo d
        JOIN fixes f ON f.region = :region AND f.unit = d.unit AND f.t = d.t
        LEFT JOIN LATERAL locate_micro(f.region, f.geom) m ON true
    ) l
    WHERE t.region = l.region AND t.unit = l.unit AND t.t = l.t
      AND t.area_code IS DISTINCT FROM l.area_code
    RETURNING 1
),
chk_todo AS (
    SELECT c.id FROM checkins c
    WHERE c.region = :region
      AND (CAST(:moved AS text[]) IS NULL OR c.area_code = ANY(CAST(:moved AS text[])))
    UNION
    SELECT c.id FROM moved m JOIN checkins c ON ST_Intersects(m.geom, c.geom)
    WHERE c.region = :region
),
chk AS (
    UPDATE checkins t
    SET area_code = l.area_code
    FROM (
        SELECT c.id, m.area_code
        FROM chk_todo d
        JOIN checkins c ON c.id = d.id
        LEFT JOIN LATERAL locate_micro(c.region, c.geom) m ON true
    ) l
    WHERE t.id = l.id AND t.area_code IS DISTINCT FROM l.area_code
    RETURNING 1
)
SELECT (SELECT count(*) FROM inc), (SELECT count(*) FROM haz),
       (SELECT count(*) FROM fix), (SELECT count(*) FROM chk)
