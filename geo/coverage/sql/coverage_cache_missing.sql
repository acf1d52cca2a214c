-- The (slice, micro-grid) pairs of the slices [:t0s[i], :t1s[i]) and the micro-grids :codes with
-- no usable row in coverage_cache: none, or one computed with other parameters (:params) or
-- for another geometry of the micro-grid (its md5 differs: the boundary changed since).
WITH a AS MATERIALIZED (
    SELECT code, md5(ST_AsBinary(geom)) AS digest
    FROM areas
    WHERE region = :region AND level = 'micro' AND code = ANY(CAST(:codes AS text[]))
)
SELECT s.i, a.code
FROM unnest(CAST(:t0s AS timestamptz[]), CAST(:t1s AS timestamptz[])) WITH ORDINALITY AS s(t0, t1, i)
CROSS JOIN a
LEFT JOIN coverage_cache c
       ON c.region = :region AND c.t0 = s.t0 AND c.t1 = s.t1 AND c.area_code = a.code
      AND c.params = :params AND c.area_digest = a.digest
WHERE c.area_code IS NULL
ORDER BY s.i, a.code
