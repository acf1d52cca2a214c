-- The photos of one record the caller may see (row-level security), oldest first.
SELECT id FROM field_photos
WHERE region = :region AND record_kind = :kind AND record_id = :record_id
ORDER BY id
