-- The audit log, newest first, filtered and paged by id.
SELECT id, at, actor, action, entity, rows, before, after
FROM audit_log
WHERE (CAST(:entity AS text) IS NULL OR entity = :entity)
  AND (CAST(:actor AS text) IS NULL OR actor = :actor)
  AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
  AND (CAST(:before_id AS bigint) IS NULL OR id < :before_id)
ORDER BY id DESC
LIMIT :limit
