-- Forget the synonym :w.
DELETE FROM type_synonyms WHERE word = :w
