-- Forget the mapping of one source's files of one kind.
DELETE FROM import_mappings WHERE region = :region AND kind = :kind AND source = :source
