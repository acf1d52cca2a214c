-- The sources {table} holds records of in :region, each found by one probe of the unique key's
-- index (region, source, ...): a loose index scan, a few index pages per source whatever the
-- number of records. An import skips the other-source check (records_other_source.sql) of a
-- batch when its one source is the only source stored, and inserts without the upsert's probe
-- a batch whose sources were none of them (geo/records/staging.py).
WITH RECURSIVE stored (source) AS (
    (SELECT t.source FROM {table} t WHERE t.region = :region ORDER BY t.source LIMIT 1)
    UNION ALL
    SELECT (SELECT t.source FROM {table} t
            WHERE t.region = :region AND t.source > s.source
            ORDER BY t.source LIMIT 1)
    FROM stored s
    WHERE s.source IS NOT NULL
)
SELECT source FROM stored WHERE source IS NOT NULL
