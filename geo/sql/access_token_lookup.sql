-- The holder of a live token of this kind: not expired at :now (the service's clock, so a
-- frozen test clock agrees with the expiry it stamped), not revoked, account not disabled.
SELECT u.id, u.username, u.role, u.scope_code, u.display_name, u.language, u.disabled_at, t.csrf,
       t.expires_at
FROM tokens t
JOIN users u ON u.id = t.user_id
WHERE t.token_sha256 = :hash
  AND t.kind = :kind
  AND t.revoked_at IS NULL
  AND t.expires_at > :now
  AND u.disabled_at IS NULL
