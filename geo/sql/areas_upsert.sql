-- Move the staged rows of one boundary import into areas.
-- A row whose content is unchanged is left alone (its updated_at too), so re-importing the same
-- file changes nothing; the rows returned are the ones inserted or updated.
INSERT INTO areas AS a (region, code, name, level, parent_code, population, props, geom)
SELECT region, code, name, level, parent_code, population, props, geom
FROM staged_areas
ON CONFLICT (region, code) DO UPDATE
SET name = EXCLUDED.name,
    parent_code = EXCLUDED.parent_code,
    population = EXCLUDED.population,
    props = EXCLUDED.props,
    geom = EXCLUDED.geom,
    updated_at = now()
WHERE (a.name, a.parent_code, a.population, a.props, ST_AsBinary(a.geom))
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.parent_code, EXCLUDED.population, EXCLUDED.props,
       ST_AsBinary(EXCLUDED.geom))
RETURNING (xmax = 0) AS inserted
