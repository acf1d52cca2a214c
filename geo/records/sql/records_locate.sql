-- The staged records of one batch (staged_{table}: x, y in the storage CRS), each with its point
-- (geom) and the micro-grid the border rule of geo/locate.py places it in (area_code; null
-- outside every micro-grid). A query that records_upsert.sql reads from (written out per record
-- kind by geo.records.kinds.kind_sql); shared by incidents and hazards.
--
-- One set-based join, three ways to an answer, each tried only when the one before had none
-- (COALESCE and CASE evaluate their arguments lazily):
-- 1. a point in a cell of area_cells that crosses no boundary takes the cell's micro-grid: an
--    integer cell id computed arithmetically and a hash join, no geometry at all;
-- 2. a point in a boundary cell is tested exactly against the cell's candidates only
--    (ST_Intersects, then interiors first and the smallest code, as locate_micro); the level
--    keeps the planner on the micro-grids' GiST, not the one of every level, whose big
--    polygons made the test four times as slow;
-- 3. a point in no cell of the lookup, or every point when the lookup is not valid for
--    :cell_m (the EXISTS is evaluated once: a boundary change deletes area_cell_grids' row
--    until geo.locate.ensure_cells rebuilds it), goes through locate_micro and its GiST index.
-- tests/test_locate_cells.py checks that the three ways agree with locate_micro.
SELECT s.*, p.geom,
       COALESCE(
           c.area_code,
           (SELECT a.code
            FROM areas a
            WHERE a.region = :region AND a.level = 'micro' AND a.code = ANY (c.candidates)
              AND ST_Intersects(a.geom, p.geom)
            ORDER BY ST_Contains(a.geom, p.geom) DESC, a.code
            LIMIT 1),
           CASE WHEN c.i IS NULL THEN (SELECT m.area_code FROM locate_micro(:region, p.geom) m) END
       ) AS area_code
FROM staged_{table} s
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.x, s.y), :srid) AS geom) p
LEFT JOIN area_cells c
    ON c.region = :region
   AND c.i = floor(s.x / :cell_m)::integer
   AND c.j = floor(s.y / :cell_m)::integer
   AND EXISTS (SELECT 1 FROM area_cell_grids g WHERE g.region = :region AND g.cell_m = :cell_m)
