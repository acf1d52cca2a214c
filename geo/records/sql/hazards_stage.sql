-- One import batch's hazard fields, beside staged_records (records_stage.sql), filled by COPY.
CREATE TEMP TABLE staged_hazards (
    row integer NOT NULL,
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
