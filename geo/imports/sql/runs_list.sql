-- The region's import runs, newest first (a page: those older than :before), with the counts.
SELECT id, finished_at, actor, kind, source, file_name, file_format, sha256,
       COALESCE((report ->> 'loaded')::bigint, 0) AS loaded,
       COALESCE((report ->> 'inserted')::bigint, 0) AS inserted,
       COALESCE((report ->> 'updated')::bigint, 0) AS updated,
       COALESCE((report ->> 'unchanged')::bigint, 0) AS unchanged,
       COALESCE(jsonb_array_length(report -> 'rejected'), 0) AS rejected
FROM import_runs
WHERE region = :region AND (CAST(:before AS bigint) IS NULL OR id < :before)
ORDER BY id DESC
LIMIT :limit
