-- What the data desk knows of one run's file: its name, format, encoding, header, the mapping.
UPDATE import_runs
SET file_name = :file_name, file_format = :file_format, encoding = :encoding,
    header = CAST(:header AS jsonb), mapping = CAST(:mapping AS jsonb)
WHERE region = :region AND id = :id
