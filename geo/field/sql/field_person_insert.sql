INSERT INTO grid_people (region, grid_code, post, duty, name, phone, position)
VALUES (:region, :grid, :post, :duty, :name, :phone, :position)
