-- The plan being followed now: of the plans whose shift holds :now, the last saved one, else
-- the last made.
SELECT id FROM route_plans
WHERE region = :region AND shift_start <= :now AND shift_end > :now
ORDER BY saved_at IS NULL, id DESC
LIMIT 1
