-- The direct children of one area in one computation, worst first, with their colour and score.
SELECT s.area_code AS code, a.name, s.colour, s.score
FROM areas a
JOIN risk_scores s ON s.run_id = :run_id AND s.region = a.region AND s.area_code = a.code
WHERE a.region = :region AND a.parent_code = :code
ORDER BY array_position(ARRAY['red', 'orange', 'yellow', 'blue'], s.colour), s.score DESC, a.code
