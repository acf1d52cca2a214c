-- The region's remembered mappings, by kind and source.
SELECT kind, source, mapping, updated_at FROM import_mappings WHERE region = :region
ORDER BY kind, source
