-- The segments a period's slices cut: for each bound :bounds inside the period [:t0, :t1), the
-- segment from each unit's last fix before it to its first fix at or after it, where the two
-- belong to one track (at most :gap_s apart, same unit kind; coverage_slice.sql). Their buffers,
-- intersected with each micro-grid of :codes they reach, go into cov_slice, so the union of the
-- slices' covers and these equals the cover of the whole period.
INSERT INTO cov_slice (code, digest, geom)
WITH segs AS MATERIALIZED (
    SELECT ST_MakeLine(f.prev_geom, f.geom) AS line,
           CASE f.unit_kind WHEN 'foot' THEN :r_foot
                            WHEN 'bicycle' THEN :r_bicycle
                            ELSE :r_vehicle END AS r
    FROM unnest(CAST(:bounds AS timestamptz[])) AS b(at)
    CROSS JOIN LATERAL (
        SELECT unit, unit_kind, t, geom,
               lag(t) OVER w AS prev_t,
               lag(geom) OVER w AS prev_geom,
               lag(unit_kind) OVER w AS prev_kind
        FROM patrol_fixes(  -- every unit's, whoever asks (migration s0010)
            :region,
            greatest(b.at - make_interval(secs => :gap_s), CAST(:t0 AS timestamptz)),
            least(b.at + make_interval(secs => :gap_s), CAST(:t1 AS timestamptz)))
        WHERE CAST(:units AS text[]) IS NULL OR unit = ANY(CAST(:units AS text[]))
        WINDOW w AS (PARTITION BY unit ORDER BY t)
    ) f
    WHERE f.prev_t < b.at AND f.t >= b.at
      AND f.t - f.prev_t <= make_interval(secs => :gap_s)
      AND f.unit_kind = f.prev_kind
)
SELECT a.code, md5(ST_AsBinary(a.geom)),
       ST_Multi(ST_CollectionExtract(
           ST_Intersection(ST_Union(ST_Buffer(s.line, s.r, 'quad_segs=16')), a.geom), 3))
FROM segs s
JOIN areas a ON ST_DWithin(s.line, a.geom, s.r)
WHERE a.region = :region AND a.level = 'micro' AND a.code = ANY(CAST(:codes AS text[]))
GROUP BY a.code, a.geom
