-- Open a case in state "received"; the unique (region, incident_id) makes a second case on the same
-- incident a no-op (no row returned), which the caller reports as a conflict.
INSERT INTO cases (region, incident_id, platform, state, grid_code, received_at, deadline_at)
VALUES (:region, :incident_id, :platform, 'received', :grid_code, :received_at, :deadline_at)
ON CONFLICT (region, incident_id) DO NOTHING
RETURNING id
