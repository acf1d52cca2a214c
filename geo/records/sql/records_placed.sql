-- Where the staged records of the last batch are now in {table}: [row, area_code, area_path].
SELECT s.row, t.area_code, t.area_path
FROM staged_records s
JOIN {table} t ON t.region = :region AND t.source = s.source AND t.source_id = s.source_id
