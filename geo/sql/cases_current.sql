-- The state a transition starts from, with the time of the case's latest step (a step may not
-- be dated before it).
SELECT c.id, c.state, c.version, c.outcome, c.squad, c.department, c.dispatched_at,
       c.handled_at, c.closed_at,
       (SELECT max(e.at) FROM case_events e WHERE e.region = c.region AND e.case_id = c.id) AS last_at
FROM cases c
WHERE c.region = :region AND c.id = :case_id
