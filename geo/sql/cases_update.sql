-- The optimistic lock: the step applies only when nobody moved the case since the caller read
-- it (version = :expected). Under READ COMMITTED a concurrent UPDATE of the same row waits for
-- the first to commit and then re-checks the WHERE on the new row, so exactly one of two
-- dispatchers holding the same version gets a row back.
UPDATE cases
SET state = :state,
    outcome = :outcome,
    squad = :squad,
    department = :department,
    dispatched_at = :dispatched_at,
    handled_at = :handled_at,
    closed_at = :closed_at,
    version = version + 1,
    updated_at = now()
WHERE region = :region AND id = :case_id AND version = :expected
RETURNING version
