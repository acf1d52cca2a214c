-- A check-in as stored: its micro-grid and time.
SELECT c.id, c.person, c.t AS at, c.area_code, a.name AS area_name
FROM checkins c
LEFT JOIN areas a ON a.region = c.region AND a.code = c.area_code
WHERE c.region = :region AND c.person = :person AND c.t = :t
ORDER BY c.key_scope DESC
LIMIT 1
