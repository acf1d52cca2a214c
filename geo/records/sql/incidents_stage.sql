-- One import batch's incident fields, beside staged_records (records_stage.sql), filled by COPY.
CREATE TEMP TABLE staged_incidents (
    row integer NOT NULL,
    type text NOT NULL,
    occurred_s double precision NOT NULL,
    reported_s double precision NOT NULL,
    description text
) ON COMMIT DROP
