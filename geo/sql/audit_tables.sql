-- The tables the audit log holds entries of: a skip scan of audit_log_entity_idx, one index
-- probe per table instead of a read of the whole log.
WITH RECURSIVE e AS (
    (SELECT entity FROM audit_log ORDER BY entity LIMIT 1)
    UNION ALL
    SELECT (SELECT entity FROM audit_log WHERE entity > e.entity ORDER BY entity LIMIT 1)
    FROM e
    WHERE e.entity IS NOT NULL
)
SELECT entity FROM e WHERE entity IS NOT NULL
