-- One area's colour in one computation.
INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, hazard_colour,
                         incident_colour, intensity_km2, smoothed_km2, per_1000, gi_z, gi_p,
                         significant, reasons)
VALUES (:run_id, :region, :area_code, :level, :colour, :score, :hazard_colour, :incident_colour,
        :intensity_km2, :smoothed_km2, :per_1000, :gi_z, :gi_p, :significant,
        CAST(:reasons AS jsonb))
