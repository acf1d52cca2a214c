-- The last id {table}'s sequence gave (0: none yet), read just before an upsert: the rows
-- the upsert returns with a greater id are the ones it inserted (records_upsert.sql). Writers of
-- one kind in one region take turns (geo.records.staging.write_lock_key), and the sequence
-- caches one value per call, so no row the upsert updates can have a greater id.
SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), 0)
