-- One photo and its thumbnail, if the caller's area holds its record (row-level security).
SELECT content, thumbnail FROM field_photos WHERE region = :region AND id = :id
