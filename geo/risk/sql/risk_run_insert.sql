-- Open one computation of the risk map; its scores follow (risk_score_insert).
INSERT INTO risk_runs (region, as_of, params, summary)
VALUES (:region, CAST(:as_of AS timestamptz), CAST(:params AS jsonb), CAST(:summary AS jsonb))
RETURNING id
