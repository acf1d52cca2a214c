-- One import batch's staging table for incident rows that passed the checks, filled by COPY
-- (geometry as EWKB hex with its SRID, built in Python). geo/records.py builds its GiST index
-- after each batch's COPY, for the polygon-driven locate join.
CREATE TEMP TABLE staged_incidents (
    row integer NOT NULL,
    source text NOT NULL,
    source_id text NOT NULL,
    address text,
    geom geometry NOT NULL,
    located_by text NOT NULL,
    geocode_score double precision,
    source_crs text,
    props jsonb,
    type text NOT NULL,
    occurred_s double precision NOT NULL,
    reported_s double precision NOT NULL,
    description text
) ON COMMIT DROP
