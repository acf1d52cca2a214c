-- Every account for the admin's list: its area's name and level, and its last sign-in (the
-- latest successful password sign-in still in login_attempts; older ones are pruned).
SELECT u.id, u.username, u.display_name, u.role, u.scope_code, u.language,
       u.disabled_at IS NOT NULL AS disabled, u.created_at,
       a.name AS scope_name, a.level AS scope_level,
       (SELECT max(l.at) FROM login_attempts l WHERE l.username = u.username AND l.ok)
           AS last_sign_in
FROM users u
LEFT JOIN areas a ON a.region = :region AND a.code = u.scope_code
ORDER BY u.username
