-- One import batch's staging tables for records that passed the checks: staged_records holds
-- what incidents and hazards share (the location as x, y in the storage CRS), filled by COPY
-- from geo/records/staging.py beside the kind's own table (incidents_stage.sql, hazards_stage.sql);
-- staged_places receives each located row's micro-grid (records_locate.sql).
CREATE TEMP TABLE staged_records (
    row integer NOT NULL,
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
CREATE TEMP TABLE staged_places (
    row integer NOT NULL,
    area_code text NOT NULL
) ON COMMIT DROP
