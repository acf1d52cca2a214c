-- A new account; returns it as geo.access reads users.
INSERT INTO users (username, role, scope_code, display_name, password_hash)
VALUES (:username, :role, :scope, :display_name, :hash)
RETURNING id, username, role, scope_code, display_name, language, disabled_at
