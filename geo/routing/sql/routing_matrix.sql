-- Travel seconds between every pair of the given vertices for one unit kind (pgRouting).
SELECT start_vid, end_vid, agg_cost
FROM pgr_dijkstraCostMatrix(
    format(
        'SELECT id, source, target, %I AS cost, %I AS reverse_cost '
        'FROM routing_edges WHERE region = %L',
        CAST(:cost_column AS text), CAST(:reverse_cost_column AS text), CAST(:region AS text)
    ),
    CAST(:vids AS bigint[]),
    directed => true
)
