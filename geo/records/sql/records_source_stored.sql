-- Whether {table} holds any record of :source in :region (one probe of the unique key's index).
SELECT EXISTS (SELECT FROM {table} WHERE region = :region AND source = :source)
