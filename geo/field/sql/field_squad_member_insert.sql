INSERT INTO squad_members (region, grid_code, kind, name, phone, leads)
VALUES (:region, :grid, :kind, :name, :phone, :leads)
