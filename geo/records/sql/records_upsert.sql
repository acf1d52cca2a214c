-- Write the staged records of one batch into {table} by (region, source, source_id, key_scope),
-- each with the micro-grid records_locate.sql placed it in (none: outside every area). A row
-- whose content is unchanged is left alone, so re-importing a file changes nothing; a known
-- record with new content is updated, a new one inserted.
-- Written out per record kind (geo.records.kinds.kind_sql): {{table}} and the column lists come
-- from the kind's staged columns, a staged time foo_s being stored as foo_at.
-- Returns the inserted, updated and unchanged counts and [row, source_id] of each staged row
-- outside every micro-grid (kept with a null area).
WITH located AS MATERIALIZED (
    -- Sorted by area and time: consecutive inserts then land on neighbouring pages of the
    -- (region, area_code, ...) index and, areas being compact, of the GiST.
    SELECT r.row, r.source, r.source_id, r.address, r.located_by, r.geocode_score, r.source_crs,
           ST_SetSRID(ST_MakePoint(r.x, r.y), :srid) AS geom,
           COALESCE(r.props, '{{}}') AS props,
           a.code AS area_code,
           -- Outside every area: an empty path (a.ancestors || a.code would be {{NULL}}, the
           -- null appended to the null array, which a COALESCE would keep).
           CASE WHEN a.code IS NULL THEN '{{}}' ELSE a.ancestors || a.code END AS area_path,
           {staged}
    FROM staged_records r
    JOIN staged_{table} k ON k.row = r.row
    LEFT JOIN staged_places p ON p.row = r.row
    LEFT JOIN areas a ON a.region = :region AND a.code = p.area_code
    ORDER BY a.code, k.{time_staged}
),
known AS MATERIALIZED (
    -- The batch's keys stored before this statement (every part of one statement sees the
    -- table as it was): a written row not among them was inserted. (xmax = 0 would tell, but a
    -- partitioned table cannot return system columns.)
    SELECT t.source, t.source_id, t.key_scope
    FROM located l
    JOIN {table} t ON t.region = :region AND t.source = l.source AND t.source_id = l.source_id
),
written AS (
    -- One pass over the batch, each key probed on the unique index: a new key is inserted; a
    -- known one is updated only when its content changed (an unchanged row is not written, so
    -- re-importing a file changes nothing).
    INSERT INTO {table} AS t (region, source, source_id, {columns})
    SELECT :region, l.source, l.source_id, {located}
    FROM located l
    ON CONFLICT (region, source, source_id, key_scope) DO UPDATE
    SET {assign},
        updated_at = now()
    WHERE ({stored}) IS DISTINCT FROM ({excluded})
    RETURNING NOT EXISTS (SELECT FROM known k WHERE (k.source, k.source_id, k.key_scope)
                                                    = (t.source, t.source_id, t.key_scope))
              AS inserted
)
SELECT count(*) FILTER (WHERE inserted),
       count(*) FILTER (WHERE NOT inserted),
       (SELECT count(*) FROM located) - count(*),
       (SELECT COALESCE(json_agg(json_build_array(row, source_id) ORDER BY row), '[]'::json)
        FROM located WHERE area_code IS NULL)
FROM written
