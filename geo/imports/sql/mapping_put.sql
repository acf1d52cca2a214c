-- Keep the confirmed mapping of one source's files of one kind (an unchanged one is not written).
INSERT INTO import_mappings (region, kind, source, mapping)
VALUES (:region, :kind, :source, CAST(:mapping AS jsonb))
ON CONFLICT (region, kind, source) DO UPDATE
SET mapping = EXCLUDED.mapping, updated_at = now()
WHERE import_mappings.mapping IS DISTINCT FROM EXCLUDED.mapping
