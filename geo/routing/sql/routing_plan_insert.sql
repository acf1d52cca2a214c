-- A new stored plan; its legs and stops follow in the same transaction.
INSERT INTO route_plans (region, shift_start, shift_end, based_on, request, result)
VALUES (:region, :shift_start, :shift_end, :based_on, CAST(:request AS jsonb),
        CAST(:result AS jsonb))
RETURNING id
