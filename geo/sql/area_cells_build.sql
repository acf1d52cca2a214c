-- Build a region's grid-cell lookup (migration i0009 describes it; geo/locate.py uses it): the
-- square cells of side :cell_m that touch a micro-grid, each with the one micro-grid all its
-- points go to, or the candidates to test exactly when the cell, grown by 1 mm, crosses a
-- micro-grid boundary. The 1 mm covers a point computed into the neighbouring cell by rounding
-- (floor(x / cell_m) of a coordinate on a cell edge). Under the border rule every point of a
-- cell that crosses no boundary has the same answer: the smallest code among the micro-grids
-- whose interior contains the whole cell (usually one; two only inside an overlap sliver).
-- The caller deletes the region's old cells first. Returns the number of cells and exact cells.
WITH pairs AS (
    SELECT g.i, g.j, m.code,
           ST_ContainsProperly(m.geom, ST_Expand(g.geom, 0.001)) AS inside
    FROM areas m
    CROSS JOIN LATERAL ST_SquareGrid(:cell_m, m.geom) g
    WHERE m.region = :region AND m.level = 'micro'
      AND ST_Intersects(m.geom, ST_Expand(g.geom, 0.001))
),
cells AS (
    INSERT INTO area_cells (region, i, j, area_code, candidates)
    SELECT :region, i, j,
           CASE WHEN bool_and(inside) THEN min(code) END,
           CASE WHEN NOT bool_and(inside) THEN array_agg(code ORDER BY code) END
    FROM pairs
    GROUP BY i, j
    RETURNING area_code
)
INSERT INTO area_cell_grids (region, cell_m, cells, exact_cells)
SELECT :region, :cell_m, count(*), count(*) FILTER (WHERE area_code IS NULL) FROM cells
ON CONFLICT (region) DO UPDATE
SET cell_m = EXCLUDED.cell_m, cells = EXCLUDED.cells, exact_cells = EXCLUDED.exact_cells,
    built_at = now()
RETURNING cells, exact_cells
