-- Whether the region's cell lookup (area_cells) is valid for :cell_m, as records_locate.sql asks.
SELECT EXISTS (SELECT FROM area_cell_grids WHERE region = :region AND cell_m = :cell_m)
