-- Units named by tracks and missing from the register: how they moved and their latest fix.
SELECT f.unit AS name, mode() WITHIN GROUP (ORDER BY f.unit_kind) AS kind, max(f.t) AS last_fix
FROM fixes f
WHERE f.region = :region
  AND NOT EXISTS (SELECT FROM patrol_units u WHERE u.region = f.region AND u.name = f.unit)
GROUP BY f.unit
ORDER BY f.unit
