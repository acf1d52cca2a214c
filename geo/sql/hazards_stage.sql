-- One import batch's staging table for hazard rows that passed the checks, filled by COPY
-- (geometry as EWKB hex with its SRID, built in Python). geo/records.py builds its GiST index
-- after each batch's COPY, for the polygon-driven locate join.
CREATE TEMP TABLE staged_hazards (
    row integer NOT NULL,
    source text NOT NULL,
    source_id text NOT NULL,
    address text,
    geom geometry NOT NULL,
    located_by text NOT NULL,
    geocode_score double precision,
    source_crs text,
    props jsonb,
    category text NOT NULL,
    name text NOT NULL,
    description text,
    method text NOT NULL,
    lec_l double precision,
    lec_e double precision,
    lec_c double precision,
    ls_l smallint,
    ls_s smallint,
    status text NOT NULL,
    identified_s double precision NOT NULL,
    closed_s double precision
) ON COMMIT DROP
