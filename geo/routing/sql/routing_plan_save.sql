-- Keep a plan (a draft of the planning page until then); saving again keeps the first time.
UPDATE route_plans SET saved_at = coalesce(saved_at, now())
WHERE id = :id AND region = :region
RETURNING saved_at
