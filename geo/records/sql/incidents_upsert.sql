-- Write the staged incidents of one batch by (region, source, source_id, key_scope), each
-- with the micro-grid records_locate.sql placed it in (none: outside every area). A row whose
-- content is unchanged is left alone, so re-importing a file changes nothing; a known record with new
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
written AS (
    -- One pass over the batch, each key probed on the unique index: a new key is inserted; a
    -- known one is updated only when its content changed (an unchanged row is not written, so
    -- re-importing a file changes nothing). xmax = 0 marks a freshly inserted row.
    INSERT INTO incidents AS t (
        region, source, source_id, type, occurred_at, reported_at, description, address, geom,
        located_by, geocode_score, source_crs, area_code, area_path, props
    )
    SELECT :region, l.source, l.source_id, l.type, l.occurred_at, l.reported_at, l.description,
           l.address, l.geom, l.located_by, l.geocode_score, l.source_crs, l.area_code,
           l.area_path, l.props_json
    FROM located l
    ON CONFLICT (region, source, source_id, key_scope) DO UPDATE
    SET type = EXCLUDED.type,
        occurred_at = EXCLUDED.occurred_at,
        reported_at = EXCLUDED.reported_at,
        description = EXCLUDED.description,
        address = EXCLUDED.address,
        geom = EXCLUDED.geom,
        located_by = EXCLUDED.located_by,
        geocode_score = EXCLUDED.geocode_score,
        source_crs = EXCLUDED.source_crs,
        area_code = EXCLUDED.area_code,
        area_path = EXCLUDED.area_path,
        props = EXCLUDED.props,
        updated_at = now()
    WHERE (t.type, t.occurred_at, t.reported_at, t.description, t.address, ST_AsBinary(t.geom),
           t.located_by, t.geocode_score, t.source_crs, t.area_code, t.area_path,
           t.props)
          IS DISTINCT FROM
          (EXCLUDED.type, EXCLUDED.occurred_at, EXCLUDED.reported_at, EXCLUDED.description,
           EXCLUDED.address, ST_AsBinary(EXCLUDED.geom), EXCLUDED.located_by,
           EXCLUDED.geocode_score, EXCLUDED.source_crs, EXCLUDED.area_code,
           EXCLUDED.area_path, EXCLUDED.props)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted),
       count(*) FILTER (WHERE NOT inserted),
       (SELECT count(*) FROM located) - count(*),
       (SELECT COALESCE(json_agg(json_build_array(row, source_id) ORDER BY row), '[]'::json)
        FROM located WHERE area_code IS NULL)
FROM written
