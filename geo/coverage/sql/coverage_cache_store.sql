-- Store the covers of one closed shift [:t0, :t1) just computed into cov_slice (every micro-grid
-- asked for has a row there, geom null where nothing is covered), replacing stale rows.
INSERT INTO coverage_cache AS c
    (region, t0, t1, area_code, params, area_digest, covered_m2, geom)
SELECT :region, :t0, :t1, s.code, :params, s.digest, COALESCE(ST_Area(s.geom), 0), s.geom
FROM cov_slice s
ON CONFLICT (region, t0, t1, area_code) DO UPDATE
SET params = EXCLUDED.params,
    area_digest = EXCLUDED.area_digest,
    covered_m2 = EXCLUDED.covered_m2,
    geom = EXCLUDED.geom,
    computed_at = now()
