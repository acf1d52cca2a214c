-- The units with fixes since :since (within the caller's area, for a scoped caller).
SELECT DISTINCT unit FROM fixes WHERE region = :region AND t >= :since ORDER BY unit
