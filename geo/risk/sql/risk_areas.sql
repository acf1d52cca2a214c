-- Every area of one region for a risk computation: micro-grids carry their polygon as WKB (for
-- the contiguity weights), the levels above only what the roll-up needs.
SELECT a.code, a.name, a.level, a.parent_code, a.ancestors, a.area_m2, a.population,
       CASE WHEN a.level = 'micro' THEN ST_AsBinary(a.geom) END AS wkb
FROM areas a
WHERE a.region = :region
ORDER BY array_position(CAST(:levels AS text[]), a.level), a.code
