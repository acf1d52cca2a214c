-- The registered patrol units' names.
SELECT name FROM patrol_units WHERE region = :region ORDER BY name
