-- Open cases (not yet handled), those past their deadline, and open hazards at or under :area
-- (all the caller sees when null).
SELECT
    (SELECT count(*) FROM cases c JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
     WHERE c.region = :region AND c.state = ANY(:open)
       AND (CAST(:area AS text) IS NULL OR i.area_code = :area OR :area = ANY(i.area_path)))
        AS open_cases,
    (SELECT count(*) FROM cases c JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
     WHERE c.region = :region AND c.state = ANY(:open) AND c.deadline_at < :now
       AND (CAST(:area AS text) IS NULL OR i.area_code = :area OR :area = ANY(i.area_path)))
        AS overdue_cases,
    (SELECT count(*) FROM hazards h
     WHERE h.region = :region AND h.status = 'open' AND h.area_code IS NOT NULL
       AND (CAST(:area AS text) IS NULL OR h.area_code = :area OR :area = ANY(h.area_path)))
        AS open_hazards
