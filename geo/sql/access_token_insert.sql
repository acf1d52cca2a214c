-- A new session or API token: only the SHA-256 of its secret is stored.
INSERT INTO tokens (user_id, kind, token_sha256, csrf, label, expires_at)
VALUES (:user_id, :kind, :hash, :csrf, :label, :expires_at)
