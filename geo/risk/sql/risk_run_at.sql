-- The latest computation of a region as of :as_of or earlier (the newest one when :as_of is
-- null), and the computation before it, whose colours are the "previous" ones.
WITH run AS (
    SELECT r.id, r.as_of, r.computed_at, r.params, r.summary
    FROM risk_runs r
    WHERE r.region = :region
      AND (CAST(:as_of AS timestamptz) IS NULL OR r.as_of <= CAST(:as_of AS timestamptz))
    ORDER BY r.as_of DESC, r.id DESC
    LIMIT 1
)
SELECT run.id, run.as_of, run.computed_at, run.params, run.summary,
       (SELECT p.id
        FROM risk_runs p
        WHERE p.region = :region AND (p.as_of, p.id) < (run.as_of, run.id)
        ORDER BY p.as_of DESC, p.id DESC
        LIMIT 1) AS previous_id
FROM run
