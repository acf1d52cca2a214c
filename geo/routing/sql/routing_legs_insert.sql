-- Store the road path of each leg of a plan for one unit kind: pgr_dijkstra between the leg's
-- vertices, its edges in travel order (each drawn in the direction travelled), joined into one
-- line. A leg between two stops at the same vertex has no edges and no geometry.
WITH legs AS (
    SELECT *
    FROM unnest(
        CAST(:units AS integer[]), CAST(:seqs AS integer[]),
        CAST(:sources AS bigint[]), CAST(:targets AS bigint[])
    ) AS l(unit_index, seq, s, t)
),
paths AS (
    SELECT start_vid, end_vid, path_seq, node, edge
    FROM pgr_dijkstra(
        format(
            'SELECT id, source, target, %I AS cost, %I AS reverse_cost '
            'FROM routing_edges WHERE region = %L',
            CAST(:cost_column AS text), CAST(:reverse_cost_column AS text),
            CAST(:region AS text)
        ),
        format(
            'SELECT DISTINCT s AS source, t AS target '
            'FROM unnest(%L::bigint[], %L::bigint[]) AS u(s, t) WHERE s <> t',
            CAST(:sources AS bigint[]), CAST(:targets AS bigint[])
        ),
        directed => true
    )
    WHERE edge > 0
),
steps AS (
    SELECT p.start_vid, p.end_vid, p.path_seq, p.edge, e.length_m,
           CASE WHEN p.node = e.source THEN e.geom ELSE ST_Reverse(e.geom) END AS g
    FROM paths p
    JOIN routing_edges e ON e.id = p.edge
)
INSERT INTO route_legs (region, plan_id, unit_index, seq, edge_ids, length_m, geom)
SELECT CAST(:region AS text), :plan_id, l.unit_index, l.seq,
       coalesce(array_agg(st.edge ORDER BY st.path_seq) FILTER (WHERE st.edge IS NOT NULL), '{}'),
       coalesce(sum(st.length_m), 0),
       ST_MakeLine(st.g ORDER BY st.path_seq)
FROM legs l
LEFT JOIN steps st ON st.start_vid = l.s AND st.end_vid = l.t
GROUP BY l.unit_index, l.seq
