-- Place one batch's points (staged_points: row, x, y in the storage CRS, records_locate_stage.sql)
-- in their micro-grids, by the border rule of geo/locate.py, into staged_places (row, area_code);
-- a point outside every micro-grid gets no place. Shared by incidents and hazards.
--
-- One set-based join, three ways to an answer:
-- 1. a point in a cell of area_cells that crosses no boundary takes the cell's micro-grid: an
--    integer cell id computed arithmetically and a hash join, no geometry at all;
-- 2. a point in a boundary cell is tested exactly against the cell's candidates only
--    (ST_Intersects, then interiors first and the smallest code, as locate_micro);
-- 3. a point in no cell of the lookup, or every point when the lookup is not valid for
--    :cell_m (the EXISTS is evaluated once: a boundary change deletes area_cell_grids' row
--    until geo.locate.ensure_cells rebuilds it), goes through locate_micro and its GiST index.
-- tests/test_locate_cells.py checks that the three ways agree with locate_micro.
INSERT INTO staged_places (row, area_code)
WITH hits AS MATERIALIZED (
    SELECT s.row, s.x, s.y, c.area_code, c.candidates, c.i IS NULL AS uncharted
    FROM staged_points s
    LEFT JOIN area_cells c
        ON c.region = :region
       AND c.i = floor(s.x / :cell_m)::integer
       AND c.j = floor(s.y / :cell_m)::integer
       AND EXISTS (
           SELECT 1 FROM area_cell_grids g WHERE g.region = :region AND g.cell_m = :cell_m
       )
),
exact AS (
    SELECT DISTINCT ON (h.row) h.row, a.code
    FROM hits h
    CROSS JOIN LATERAL unnest(h.candidates) AS k(code)
    JOIN areas a ON a.region = :region AND a.code = k.code
    CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(h.x, h.y), :srid) AS geom) p
    WHERE ST_Intersects(a.geom, p.geom)
    ORDER BY h.row, ST_Contains(a.geom, p.geom) DESC, a.code
)
SELECT h.row, h.area_code FROM hits h WHERE h.area_code IS NOT NULL
UNION ALL
SELECT e.row, e.code FROM exact e
UNION ALL
SELECT h.row, m.area_code
FROM hits h
CROSS JOIN LATERAL locate_micro(:region, ST_SetSRID(ST_MakePoint(h.x, h.y), :srid)) m
WHERE h.uncharted
