-- Empty the staging tables (records_stage.sql) for the next batch; written out per record kind.
TRUNCATE staged_records, staged_{table}
