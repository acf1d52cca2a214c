-- The stations and stops of a plan, each at its place (x, y in the store's SRID).
INSERT INTO route_stops (region, plan_id, unit_index, seq, candidate_id, geom)
SELECT (SELECT p.region FROM route_plans p WHERE p.id = :plan_id), :plan_id, u.unit_index, u.seq, u.candidate_id,
       ST_SetSRID(ST_MakePoint(u.x, u.y), CAST(:srid AS integer))
FROM unnest(
    CAST(:units AS integer[]), CAST(:seqs AS integer[]), CAST(:candidates AS text[]),
    CAST(:xs AS float8[]), CAST(:ys AS float8[])
) AS u(unit_index, seq, candidate_id, x, y)
