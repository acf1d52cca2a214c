-- Areas of each level and colour in the newest risk computation as of :as_of (none: no rows).
WITH run AS (
    SELECT id FROM risk_runs
    WHERE region = :region AND as_of < :as_of
    ORDER BY as_of DESC, id DESC
    LIMIT 1
)
SELECT s.level, s.colour, count(*) AS n
FROM risk_scores s
WHERE s.run_id = (SELECT id FROM run)
GROUP BY s.level, s.colour
