-- Locate the staged incidents and write them by (region, source, source_id). A row whose content
-- is unchanged is left alone, so re-importing a file changes nothing; a known record with new
-- content is updated, a new one inserted.
--
-- The locate join is polygon-driven: each micro-grid is the outer row and fetches its points
-- through the staging table's GiST index, so PostGIS prepares each polygon once and reuses it
-- for all its points (a point-driven probe per row, as in locate_micro, changes the polygon on
-- every call and is about 5x slower). The border rule is locate_micro's (geo/locate.py): among
-- the micro-grids a point intersects, interiors first, then the smallest code.
-- Returns the inserted, updated and unchanged counts and [row, source_id] of each staged row
-- outside every micro-grid (kept with a null area).
WITH hits AS MATERIALIZED (
    SELECT s.row, a.code, ST_Contains(a.geom, s.geom) AS inside
    FROM areas a
    JOIN staged_incidents s ON ST_Intersects(a.geom, s.geom)
    WHERE a.region = :region AND a.level = 'micro'
),
picked AS (
    SELECT DISTINCT ON (h.row) h.row, h.code
    FROM hits h
    ORDER BY h.row, h.inside DESC, h.code
),
located AS MATERIALIZED (
    SELECT s.*, to_timestamp(s.occurred_s) AS occurred_at,
           to_timestamp(s.reported_s) AS reported_at, COALESCE(s.props, '{}') AS props_json,
           a.code AS area_code, COALESCE(a.ancestors || a.code, '{}') AS area_path
    FROM staged_incidents s
    LEFT JOIN picked p ON p.row = s.row
    LEFT JOIN areas a ON a.region = :region AND a.code = p.code
),
updated AS (
    UPDATE incidents t
    SET type = l.type,
        occurred_at = l.occurred_at,
        reported_at = l.reported_at,
        description = l.description,
        address = l.address,
        geom = l.geom,
        located_by = l.located_by,
        geocode_score = l.geocode_score,
        source_crs = l.source_crs,
        area_code = l.area_code,
        area_path = l.area_path,
        props = l.props_json,
        updated_at = now()
    FROM located l
    WHERE t.region = :region AND t.source = l.source AND t.source_id = l.source_id
      AND (t.type, t.occurred_at, t.reported_at, t.description, t.address, ST_AsBinary(t.geom),
           t.located_by, t.geocode_score, t.source_crs, t.area_code, t.area_path, t.props)
          IS DISTINCT FROM
          (l.type, l.occurred_at, l.reported_at, l.description, l.address, ST_AsBinary(l.geom),
           l.located_by, l.geocode_score, l.source_crs, l.area_code, l.area_path, l.props_json)
    RETURNING 1
),
inserted AS (
    -- Plain INSERT of the keys not stored yet (both CTEs see the table as it was before this
    -- statement, so no row is both updated and inserted).
    INSERT INTO incidents (
        region, source, source_id, type, occurred_at, reported_at, description, address, geom,
        located_by, geocode_score, source_crs, area_code, area_path, props
    )
    SELECT :region, l.source, l.source_id, l.type, l.occurred_at, l.reported_at, l.description,
           l.address, l.geom, l.located_by, l.geocode_score, l.source_crs, l.area_code,
           l.area_path, l.props_json
    FROM located l
    WHERE NOT EXISTS (
        SELECT 1 FROM incidents t
        WHERE t.region = :region AND t.source = l.source AND t.source_id = l.source_id
    )
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted),
       (SELECT count(*) FROM updated),
       (SELECT count(*) FROM located) - (SELECT count(*) FROM inserted)
       - (SELECT count(*) FROM updated),
       (SELECT COALESCE(json_agg(json_build_array(row, source_id) ORDER BY row), '[]'::json)
        FROM located WHERE area_code IS NULL)
