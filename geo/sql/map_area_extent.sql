-- The extent of one area in EPSG:4326 (west, south, east, north), for a map focused on it.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Transform(ST_Envelope(a.geom), 4326) AS e
      FROM areas a WHERE a.region = :region AND a.code = :code) s
