-- Register a unit, or change a registered one.
INSERT INTO patrol_units (region, name, kind, station, shifts, updated_at)
VALUES (:region, :name, :kind, :station, CAST(:shifts AS integer[]), now())
ON CONFLICT (region, name) DO UPDATE
SET kind = EXCLUDED.kind, station = EXCLUDED.station, shifts = EXCLUDED.shifts,
    updated_at = now()
RETURNING (xmax = 0) AS created
