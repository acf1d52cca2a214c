-- Store the cleaned fixes of one import, each located in its micro-grid by locate_micro (the
-- incident border rule, migration 0003_records). A fix already stored (same region, unit and
-- time) is left alone, so re-importing a file changes nothing.
INSERT INTO fixes (region, unit, unit_kind, t, geom, area_code)
SELECT :region, k.unit, k.kind, k.t, p.geom, m.area_code
FROM kept_fixes k
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(k.x, k.y), :srid) AS geom) p
LEFT JOIN LATERAL locate_micro(CAST(:region AS text), p.geom) m ON true
ON CONFLICT (region, unit, t) DO NOTHING
