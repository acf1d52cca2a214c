-- The covered part of the micro-grids :codes over a period and its m², into cov_covered (a row
-- for each micro-grid with some cover): the union of the stored covers of its closed shifts
-- [:t0s[i], :t1s[i]) and of the covers computed for this request in cov_slice (the period's
-- other slices and the segments its slice bounds cut). Every piece is already intersected with
-- its micro-grid. (PostgreSQL computes the two identical ST_Union aggregates once.)
INSERT INTO cov_covered (code, covered_m2, geom)
SELECT p.code, ST_Area(ST_Union(p.geom)), ST_Union(p.geom)
FROM (
    SELECT c.area_code AS code, c.geom
    FROM unnest(CAST(:t0s AS timestamptz[]), CAST(:t1s AS timestamptz[])) AS s(t0, t1)
    JOIN coverage_cache c ON c.region = :region AND c.t0 = s.t0 AND c.t1 = s.t1
    WHERE c.params = :params AND c.area_code = ANY(CAST(:codes AS text[])) AND c.geom IS NOT NULL
    UNION ALL
    SELECT code, geom
    FROM cov_slice
    WHERE code = ANY(CAST(:codes AS text[])) AND geom IS NOT NULL
) p
GROUP BY p.code
