-- Failed logins within the window, for this user name and for this client, and the oldest
-- of them (when the limit lifts).
SELECT count(*) FILTER (WHERE username = :username) AS by_user,
       count(*) FILTER (WHERE client = :client) AS by_client,
       min(at) AS oldest
FROM login_attempts
WHERE NOT ok
  AND at > CAST(:now AS timestamptz) - CAST(:window AS interval)
  AND (username = :username OR client = :client)
