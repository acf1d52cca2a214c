-- Empty the staging table (records_stage.sql) for the next batch; written out per record kind.
TRUNCATE staged_{table}
