-- A run's rejected rows in file order: row, cells, reason, code, params.
SELECT row, cells, reason, code, params FROM import_rejected WHERE region = :region AND run_id = :id
ORDER BY row
