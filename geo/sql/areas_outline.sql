-- The region's hierarchy without geometry (the area picker's tree): top-down, by code.
SELECT code, name, level, parent_code
FROM areas
WHERE region = :region
ORDER BY array_position(CAST(:levels AS text[]), level), code
