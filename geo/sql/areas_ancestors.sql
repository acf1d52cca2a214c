-- Recompute the ancestors array (codes of every ancestor, top first) of one region's areas,
-- touching only rows whose ancestry changed (a re-parented area moves its whole subtree).
WITH RECURSIVE tree AS (
    SELECT id, code, ARRAY[]::text[] AS anc
    FROM areas
    WHERE region = :region AND parent_code IS NULL
    UNION ALL
    SELECT a.id, a.code, t.anc || t.code
    FROM areas a
    JOIN tree t ON a.parent_code = t.code
    WHERE a.region = :region
)
UPDATE areas a
SET ancestors = tree.anc
FROM tree
WHERE a.id = tree.id AND a.ancestors IS DISTINCT FROM tree.anc
