-- Table -> column -> type (as format_type names it) of the staging tables :tables: what the
-- binary COPY must write for each column.
SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod)
FROM pg_attribute
WHERE attrelid = ANY(CAST(:tables AS regclass[])) AND attnum > 0 AND NOT attisdropped
