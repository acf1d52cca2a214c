-- Locate the staged check-ins in their micro-grids by locate_micro (the incident border rule,
-- migration 0003_records) and note, for each, the first row of the file with the same person
-- and time (duplicates are the rows whose first_row is another row).
UPDATE staged_checkins s
SET located = (
        SELECT m.area_code
        FROM locate_micro(CAST(:region AS text), ST_SetSRID(ST_MakePoint(s.x, s.y), :srid)) m
    ),
    first_row = r.first_row
FROM (SELECT row, min(row) OVER (PARTITION BY person, t) AS first_row FROM staged_checkins) r
WHERE r.row = s.row
