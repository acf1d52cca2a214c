-- Staged rows of one batch whose id and content (its {category} and {time}) a record stored
-- under ANOTHER source already has, while their own source holds no record of that id: the same
-- records exported again under another name. They are taken out of the batch (written out per
-- record kind by geo.records.kinds.kind_sql) and returned as [row, source_id, other source], so
-- the import reports them instead of storing each record twice.
-- Each staged id is probed on the (region, source_id) index (OFFSET 0 keeps the probe a
-- parameterised index scan: with the statistics of before the import's transaction the planner
-- would read and hash the region's whole table once per batch).
WITH twins AS (
    SELECT DISTINCT ON (r.row) r.row, r.source_id, t.source AS other
    FROM staged_records r
    JOIN staged_{table} k ON k.row = r.row
    CROSS JOIN LATERAL (
        SELECT t.source
        FROM {table} t
        WHERE t.region = :region AND t.source_id = r.source_id AND t.source <> r.source
          AND t.{time} = to_timestamp(k.{time_staged})
          AND t.{category} = k.{category}
        OFFSET 0
    ) t
    WHERE NOT EXISTS (
        SELECT FROM {table} s
        WHERE s.region = :region AND s.source = r.source AND s.source_id = r.source_id
    )
    ORDER BY r.row, t.source
)
DELETE FROM staged_records r
USING twins
WHERE r.row = twins.row
RETURNING twins.row, twins.source_id, twins.other
