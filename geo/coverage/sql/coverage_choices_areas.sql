-- The level-2 and level-3 grids a coverage filter offers, by code (the caller's area only, for
-- a scoped caller: row-level security).
SELECT code, name, level
FROM areas
WHERE region = :region AND level IN ('grid2', 'grid3')
ORDER BY code
