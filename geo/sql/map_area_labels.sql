-- Where each area of one level carries its name on a map: the centre of the largest circle
-- inside its polygon (its pole of inaccessibility, in EPSG:4326), that circle's radius, and
-- how far the area reaches from that centre left-right and up-down (the shorter side of its
-- horizontal and its vertical chord through the centre), all in metres (the stored CRS is
-- metric); with the parent's name to split a long name on.
WITH poles AS (
    SELECT a.region, a.code, a.name, a.parent_code, a.geom, m.center, m.radius,
           ST_XMax(a.geom) - ST_XMin(a.geom) + ST_YMax(a.geom) - ST_YMin(a.geom) AS reach
    FROM areas a
    CROSS JOIN LATERAL ST_MaximumInscribedCircle(a.geom) m
    WHERE a.region = :region AND a.level = :level
)
SELECT p.code, p.name, parent.name AS parent_name,
       ST_X(ST_Transform(p.center, 4326)) AS lon, ST_Y(ST_Transform(p.center, 4326)) AS lat,
       p.radius AS radius_m, h.half AS half_width_m, v.half AS half_height_m
FROM poles p
LEFT JOIN areas parent ON parent.region = p.region AND parent.code = p.parent_code
CROSS JOIN LATERAL (
    -- The piece of the horizontal line through the centre that lies in the area and holds it.
    SELECT COALESCE(MAX(LEAST(ST_Distance(p.center, ST_StartPoint(d.geom)),
                              ST_Distance(p.center, ST_EndPoint(d.geom)))), p.radius) AS half
    FROM ST_Dump(ST_Intersection(p.geom, ST_MakeLine(
        ST_Translate(p.center, -p.reach, 0), ST_Translate(p.center, p.reach, 0)))) d
    WHERE d.geom && ST_Expand(p.center, 1e-6) AND GeometryType(d.geom) = 'LINESTRING'
) h
CROSS JOIN LATERAL (
    SELECT COALESCE(MAX(LEAST(ST_Distance(p.center, ST_StartPoint(d.geom)),
                              ST_Distance(p.center, ST_EndPoint(d.geom)))), p.radius) AS half
    FROM ST_Dump(ST_Intersection(p.geom, ST_MakeLine(
        ST_Translate(p.center, 0, -p.reach), ST_Translate(p.center, 0, p.reach)))) d
    WHERE d.geom && ST_Expand(p.center, 1e-6) AND GeometryType(d.geom) = 'LINESTRING'
) v
ORDER BY p.radius DESC, p.code
