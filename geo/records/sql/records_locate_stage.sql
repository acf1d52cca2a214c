-- The tables of the locate join (records_locate.sql), made once per import on the connection
-- that locates (geo/records/staging.py): staged_points (row, x, y in the storage CRS) filled by
-- COPY with one batch's points, staged_places receiving each located point's micro-grid.
CREATE TEMP TABLE staged_points (
    row integer NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE staged_places (
    row integer NOT NULL,
    area_code text NOT NULL
) ON COMMIT DROP
