-- One rejected row of a run: its cells as the file held them, the reason, its code and values.
INSERT INTO import_rejected (region, run_id, row, cells, reason, code, params)
VALUES (:region, :run, :row, CAST(:cells AS jsonb), :reason, :code, CAST(:params AS jsonb))
