-- Upsert the located, non-duplicate staged check-ins. A row whose position and declared
-- micro-grid are unchanged is left alone, so re-importing a file changes nothing; the rows
-- returned are the ones inserted (true) or updated (false): a row not among the keys stored
-- before the statement (every part of one statement sees the table as it was; xmax = 0 would
-- tell, but a partitioned table cannot return system columns).
WITH known AS MATERIALIZED (
    SELECT c.person, c.t, c.key_scope
    FROM staged_checkins s
    JOIN checkins c ON c.region = :region AND c.person = s.person AND c.t = s.t
    WHERE s.located IS NOT NULL AND s.first_row = s.row
)
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
RETURNING NOT EXISTS (SELECT FROM known k WHERE (k.person, k.t, k.key_scope)
                                                = (c.person, c.t, c.key_scope)) AS inserted
