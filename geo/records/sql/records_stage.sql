-- One import batch's staging table for the records that passed the checks, filled by one COPY
-- from geo/records/staging.py: first what incidents and hazards share (the location as x, y in
-- the storage CRS), then the kind's own fields (written out per record kind by
-- geo.records.kinds.kind_sql from the kind's staged columns). One table: one COPY per batch,
-- and the upsert reads each row once, with no join back by row.
CREATE TEMP TABLE staged_{table} (
    row integer NOT NULL,
    source text NOT NULL,
    source_id text NOT NULL,
    address text,
    x double precision NOT NULL,
    y double precision NOT NULL,
    located_by text NOT NULL,
    geocode_score double precision,
    source_crs text,
    props jsonb,
    {stage_columns}
) ON COMMIT DROP
