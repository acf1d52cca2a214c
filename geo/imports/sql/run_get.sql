-- One import run of the region: what runs_list.sql gives, and its mapping, header, report.
SELECT id, finished_at, actor, kind, source, file_name, file_format, encoding, sha256,
       COALESCE((report ->> 'loaded')::bigint, 0) AS loaded,
       COALESCE((report ->> 'inserted')::bigint, 0) AS inserted,
       COALESCE((report ->> 'updated')::bigint, 0) AS updated,
       COALESCE((report ->> 'unchanged')::bigint, 0) AS unchanged,
       COALESCE(jsonb_array_length(report -> 'rejected'), 0) AS rejected,
       header, mapping, report
FROM import_runs
WHERE region = :region AND id = :id
