-- Upsert the located, non-duplicate staged check-ins. A row whose position and declared
-- micro-grid are unchanged is left alone, so re-importing a file changes nothing; the rows
-- returned are the ones inserted (true) or updated (false).
INSERT INTO checkins AS c (region, person, t, geom, source_crs, area_code, declared_code)
SELECT :region, s.person, s.t, ST_SetSRID(ST_MakePoint(s.x, s.y), :srid), :crs, s.located,
       s.declared
FROM staged_checkins s
WHERE s.located IS NOT NULL AND s.first_row = s.row
ON CONFLICT (region, person, t, key_scope) DO UPDATE
SET geom = EXCLUDED.geom,
    source_crs = EXCLUDED.source_crs,
    area_code = EXCLUDED.area_code,
    declared_code = EXCLUDED.declared_code
WHERE (ST_AsBinary(c.geom), c.declared_code, c.area_code)
      IS DISTINCT FROM
      (ST_AsBinary(EXCLUDED.geom), EXCLUDED.declared_code, EXCLUDED.area_code)
RETURNING (xmax = 0) AS inserted
