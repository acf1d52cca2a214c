-- One area's row in one computation, with its name, parent and previous colour.
SELECT s.area_code AS code, a.name, s.level, a.parent_code, a.area_m2, a.population,
       s.colour, s.score, s.hazard_colour, s.incident_colour, s.intensity_km2, s.smoothed_km2,
       s.per_1000, s.gi_z, s.gi_p, s.significant, s.reasons, p.colour AS previous_colour
FROM risk_scores s
LEFT JOIN areas a ON a.region = s.region AND a.code = s.area_code
LEFT JOIN risk_scores p ON p.region = s.region AND p.run_id = CAST(:previous_id AS bigint)
                        AND p.area_code = s.area_code
WHERE s.run_id = :run_id AND s.area_code = :code
