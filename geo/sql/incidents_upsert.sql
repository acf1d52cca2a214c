-- Write the staged incidents of one batch by (region, source, source_id), each with the
-- micro-grid records_locate.sql placed it in (none: outside every area). A row whose content
-- is unchanged is left alone, so re-importing a file changes nothing; a known record with new
-- content is updated, a new one inserted.
-- Returns the inserted, updated and unchanged counts and [row, source_id] of each staged row
-- outside every micro-grid (kept with a null area).
WITH located AS MATERIALIZED (
    -- Sorted by area and time: consecutive inserts then land on neighbouring pages of the
    -- (region, area_code, ...) index and, areas being compact, of the GiST.
    SELECT r.source, r.source_id, r.address, r.located_by, r.geocode_score, r.source_crs,
           ST_SetSRID(ST_MakePoint(r.x, r.y), :srid) AS geom, k.*,
           to_timestamp(k.occurred_s) AS occurred_at, to_timestamp(k.reported_s) AS reported_at,
           COALESCE(r.props, '{}') AS props_json,
           a.code AS area_code, COALESCE(a.ancestors || a.code, '{}') AS area_path
    FROM staged_records r
    JOIN staged_incidents k ON k.row = r.row
    LEFT JOIN staged_places p ON p.row = r.row
    LEFT JOIN areas a ON a.region = :region AND a.code = p.area_code
    ORDER BY a.code, k.occurred_s
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
