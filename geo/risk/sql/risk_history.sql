-- An area's colour in every computation of its region, oldest first.
SELECT r.id AS run_id, r.as_of, r.computed_at, s.colour, s.score
FROM risk_scores s
JOIN risk_runs r ON r.region = s.region AND r.id = s.run_id
WHERE s.region = :region AND s.area_code = :code
ORDER BY r.as_of, r.id
