-- The synonyms, by type and word: shipped ones and those an officer added.
SELECT word, code, builtin FROM type_synonyms ORDER BY code, word
