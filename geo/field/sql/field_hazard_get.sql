-- One hazard the caller may see, with its micro-grid and status.
SELECT id, area_code, status FROM hazards WHERE region = :region AND id = :id
