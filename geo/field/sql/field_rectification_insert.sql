-- A rectification step, once per phone-made UUID; returns the step and whether it is new.
WITH ins AS (
    INSERT INTO hazard_rectifications (region, client_id, hazard_id, area_code, status, on_day,
                                       note, actor)
    VALUES (:region, :client_id, :hazard_id, :area_code, :status, :on_day, :note, :actor)
    ON CONFLICT (region, client_id) DO NOTHING
    RETURNING id
)
SELECT id, true AS new FROM ins
UNION ALL
SELECT id, false AS new FROM hazard_rectifications
WHERE region = :region AND client_id = :client_id AND NOT EXISTS (SELECT FROM ins)
