-- The stations and stops of a plan, each at its place (x, y in the store's SRID).
INSERT INTO route_stops (plan_id, unit_index, seq, candidate_id, geom)
SELECT :plan_id, u.unit_index, u.seq, u.candidate_id,
       ST_SetSRID(ST_MakePoint(u.x, u.y), CAST(:srid AS integer))
FROM unnest(
    CAST(:units AS integer[]), CAST(:seqs AS integer[]), CAST(:candidates AS text[]),
    CAST(:xs AS float8[]), CAST(:ys AS float8[])
) AS u(unit_index, seq, candidate_id, x, y)
