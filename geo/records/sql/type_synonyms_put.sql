-- Make :w mean type :c (a synonym pointed at another type is moved; an officer's word is no
-- longer a shipped one). True when the word is new.
INSERT INTO type_synonyms AS s (word, code) VALUES (:w, :c)
ON CONFLICT (word) DO UPDATE SET code = EXCLUDED.code, builtin = false, updated_at = now()
WHERE s.code IS DISTINCT FROM EXCLUDED.code
RETURNING xmax = 0
