-- Every synonym of an incident type: the word (case-folded) and the type's code.
SELECT word, code FROM type_synonyms
