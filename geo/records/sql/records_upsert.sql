-- Write the staged records of one batch into {table} by (region, source, source_id, key_scope),
-- each placed in its micro-grid by records_locate.sql in the same statement (none: outside
-- every area). A row whose content is unchanged is left alone, so re-importing a file changes
-- nothing; a known record with new content is updated, a new one inserted. A row whose id and
-- content (its {category} and {time}) a record stored under ANOTHER source already has, while
-- its own source holds no record of that id, is not written: it is the same record exported
-- again under another name, and the import reports it instead of storing it twice.
-- Written out per record kind (geo.records.kinds.kind_sql): {{table}} and the column lists come
-- from the kind's staged columns, a staged time foo_s being stored as foo_at; {{locate}} is
-- records_locate.sql.
-- Returns the inserted, updated and unchanged counts, [row, source_id] of each written row
-- outside every micro-grid (kept with a null area) and [row, source_id, other source] of each
-- row not written for another source's record.
WITH same_id AS MATERIALIZED (
    -- The records stored under a staged row's id, whatever their source, before this
    -- statement (every part of one statement sees the table as it was): one probe of the
    -- (region, source_id) index per row tells both what the row may update and its twins.
    SELECT s.row, t.source, t.source_id, t.key_scope, t.source = s.source AS own,
           t.{time} = to_timestamp(s.{time_staged}) AND t.{category} = s.{category} AS same
    FROM staged_{table} s
    CROSS JOIN LATERAL (
        -- OFFSET 0 keeps this a probe per row: the import runs in one transaction, so the
        -- table's statistics are those of before it, and a join would hash the whole table
        -- (grown by the batches before) once per batch.
        SELECT t.source, t.source_id, t.key_scope, t.{time}, t.{category}
        FROM {table} t
        WHERE t.region = :region AND t.source_id = s.source_id
        OFFSET 0
    ) t
),
twins AS MATERIALIZED (
    -- Rows of the batch stored under another source only, with the same content: the first
    -- such source is named.
    SELECT DISTINCT ON (o.row) o.row, o.source_id, o.source AS other
    FROM same_id o
    WHERE o.same AND NOT o.own
      AND NOT EXISTS (SELECT FROM same_id k WHERE k.row = o.row AND k.own)
    ORDER BY o.row, o.source
),
known AS MATERIALIZED (
    -- The batch's keys stored before this statement: a written row not among them was
    -- inserted. (xmax = 0 would tell, but a partitioned table cannot return system columns.)
    SELECT k.source, k.source_id, k.key_scope FROM same_id k WHERE k.own
),
located AS MATERIALIZED (
    -- Sorted by area and time: consecutive inserts then land on neighbouring pages of the
    -- (region, area_code, ...) index and, areas being compact, of the GiST.
    SELECT r.row, r.source, r.source_id, r.address, r.located_by, r.geocode_score, r.source_crs,
           r.geom, COALESCE(r.props, '{{}}') AS props, a.code AS area_code,
           -- Outside every area: an empty path (a.ancestors || a.code would be {{NULL}}, the
           -- null appended to the null array).
           CASE WHEN a.code IS NULL THEN '{{}}' ELSE a.ancestors || a.code END AS area_path,
           {staged}
    FROM ({locate}) r
    LEFT JOIN areas a ON a.region = :region AND a.code = r.area_code
    WHERE NOT EXISTS (SELECT FROM twins w WHERE w.row = r.row)
    ORDER BY a.code, r.{time_staged}
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
        FROM located WHERE area_code IS NULL),
       (SELECT COALESCE(json_agg(json_build_array(row, source_id, other) ORDER BY row),
                        '[]'::json)
        FROM twins)
FROM written
