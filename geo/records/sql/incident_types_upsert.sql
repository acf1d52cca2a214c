-- Add a deployment's incident type, or rename one it added before.
INSERT INTO incident_types (code, name_zh, name_en, zero)
VALUES (:c, :zh, :en, :z)
ON CONFLICT (code) DO UPDATE
SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, zero = EXCLUDED.zero
