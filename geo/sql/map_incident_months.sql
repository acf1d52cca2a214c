-- Incidents in this month to date and in the same days of the same month last year.
SELECT count(*) FILTER (WHERE occurred_at >= :this_from AND occurred_at < :this_to) AS this_year,
       count(*) FILTER (WHERE occurred_at >= :last_from AND occurred_at < :last_to) AS last_year
FROM incidents
WHERE region = :region
  AND (occurred_at >= :this_from AND occurred_at < :this_to
       OR occurred_at >= :last_from AND occurred_at < :last_to)
