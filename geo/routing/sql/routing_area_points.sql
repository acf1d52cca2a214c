-- A point inside each named area (where a patrol stop in it is placed), with its name.
SELECT a.code, a.name, ST_X(p.g) AS x, ST_Y(p.g) AS y
FROM areas a, LATERAL (SELECT ST_PointOnSurface(a.geom) AS g) p
WHERE a.region = :region AND a.code = ANY(CAST(:codes AS text[]))
