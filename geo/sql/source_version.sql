-- The version of what an answer is drawn from (a tile layer, a page): the number of statements that ever changed its
-- source tables. The audit log is append-only (its triggers refuse UPDATE, DELETE and TRUNCATE)
-- and every statement that changes an audited table adds one row, in the same transaction, so
-- the count grows with each committed change whichever order transactions commit in (a maximum
-- id or time would miss a transaction that began first and committed last). Statements of the
-- region and those naming no single region ('': several, or a table without one) count.
SELECT count(*) FROM audit_log
WHERE region IN (CAST(:region AS text), '') AND entity = ANY(CAST(:entities AS text[]))
