DELETE FROM patrol_units WHERE region = :region AND name = :name
