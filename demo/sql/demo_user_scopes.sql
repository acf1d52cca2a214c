-- The demo grid head's area (the first level-3 grid by code) and the member's (its first
-- micro-grid).
SELECT g.code, min(m.code)
FROM areas g
JOIN areas m ON m.region = g.region AND m.parent_code = g.code
WHERE g.region = :region AND g.level = 'grid3'
GROUP BY g.code
ORDER BY g.code
LIMIT 1
