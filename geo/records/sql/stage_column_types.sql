-- Column -> type (as format_type names it) of the staging table :table: what the binary COPY
-- must write for each column.
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute
WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped
