-- Plans whose shift starts in [:start, :until), newest shift first: each with its units'
-- names and what it covered.
SELECT p.id, p.created_at, p.saved_at, p.based_on, p.shift_start, p.shift_end,
       ARRAY(SELECT u ->> 'name' FROM jsonb_array_elements(p.result -> 'units') u) AS units,
       p.result -> 'summary' AS summary
FROM route_plans p
WHERE p.region = :region AND p.shift_start >= :start AND p.shift_start < :until
  AND (NOT CAST(:saved_only AS boolean) OR p.saved_at IS NOT NULL)
ORDER BY p.shift_start DESC, p.id DESC
