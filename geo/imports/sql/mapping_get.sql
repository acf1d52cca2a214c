-- The mapping confirmed for one source's files of one kind.
SELECT mapping FROM import_mappings WHERE region = :region AND kind = :kind AND source = :source
