-- Write the staged records of one batch into {table} by (region, source, source_id, key_scope),
-- each with the micro-grid records_locate.sql placed it in (staged_records.area_code; none:
-- outside every area). A row whose content is unchanged is left alone, so re-importing a file
-- changes nothing; a known record with new content is updated, a new one inserted.
-- Written out per record kind (geo.records.kinds.kind_sql): {{table}} and the column lists come
-- from the kind's staged columns, a staged time foo_s being stored as foo_at.
-- Returns the inserted, updated and unchanged counts and [row, source_id] of each staged row
-- outside every micro-grid (kept with a null area).
WITH located AS (
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
    LEFT JOIN areas a ON a.region = :region AND a.code = r.area_code
),
written AS (
    -- One pass over the batch. {{conflict}}: records_conflict.sql (each key probed on the
    -- unique index, a known one updated when its content changed); left out for a batch whose
    -- keys cannot be stored yet (geo.records.staging.upsert_staged), which is then inserted
    -- without the probe.
    INSERT INTO {table} AS t (region, source, source_id, {columns})
    SELECT :region, l.source, l.source_id, {located}
    FROM located l
    {conflict}
    -- A new row takes its id from the table's sequence, past :last_id (its value before this
    -- statement, records_last_id.sql); an updated row keeps the id it had. (xmax = 0 would
    -- tell too, but a partitioned table cannot return system columns.)
    RETURNING t.id > :last_id AS inserted
)
-- The batch's counts and its rows outside every area read from the staging table, so that
-- located is read once, by the insert, and never kept.
SELECT count(*) FILTER (WHERE inserted),
       count(*) FILTER (WHERE NOT inserted),
       (SELECT count(*) FROM staged_records) - count(*),
       (SELECT COALESCE(json_agg(json_build_array(row, source_id) ORDER BY row), '[]'::json)
        FROM staged_records WHERE area_code IS NULL)
FROM written
