-- One import batch's staging tables for records that passed the checks, filled by COPY from
-- geo/records/staging.py: staged_records holds what incidents and hazards share (the location
-- as x, y in the storage CRS, and the micro-grid records_locate.sql placed it in, none outside
-- every area), staged_{table} the kind's own fields (written out per record kind by
-- geo.records.kinds.kind_sql from the kind's staged columns).
CREATE TEMP TABLE staged_records (
    row integer NOT NULL,
    area_code text,
    source text NOT NULL,
    source_id text NOT NULL,
    address text,
    x double precision NOT NULL,
    y double precision NOT NULL,
    located_by text NOT NULL,
    geocode_score double precision,
    source_crs text,
    props jsonb
) ON COMMIT DROP;
CREATE TEMP TABLE staged_{table} (
    row integer NOT NULL,
    {stage_columns}
) ON COMMIT DROP
