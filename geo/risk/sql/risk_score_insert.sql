-- Every area's colour in one computation, from the rows staged by COPY (geo/risk/store.py).
INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, hazard_colour,
                         incident_colour, intensity_km2, smoothed_km2, per_1000, gi_z, gi_p,
                         significant, reasons)
SELECT run_id, region, area_code, level, colour, score, hazard_colour, incident_colour,
       intensity_km2, smoothed_km2, per_1000, gi_z, gi_p, significant, reasons
FROM staged_scores
