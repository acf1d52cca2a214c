-- A synthetic region on the server that holds its partitions (benchmarks and tests):
-- {side} x {side} square micro-grids of 100 m from ({x0}, {y0}), coded <region>-<row*side+col>
-- zero-padded so codes sort like the index; {fixes} fixes scattered over the region, of which
-- the last 1 % lie exactly on an inner vertical edge (the border rule's second step) and 1 %
-- outside every micro-grid; {incidents} incidents over the year before {as_of}, filed in their
-- micro-grid as the importer would. Values reach the statements as literals checked by the
-- caller (integers, floats, the region's checked name); random() after setseed({seed}) makes
-- every run the same.
SELECT setseed({seed});
INSERT INTO national.{micro_grids_part} (region, code, geom)
SELECT {region}, {region} || '-' || lpad((r * {side} + c)::text, 6, '0'),
       ST_Multi(ST_MakeEnvelope({x0} + c * 100.0, {y0} + r * 100.0,
                                {x0} + (c + 1) * 100.0, {y0} + (r + 1) * 100.0, {srid}))
FROM generate_series(0, {side} - 1) r, generate_series(0, {side} - 1) c;
INSERT INTO national.{fixes_part} (region, unit, t, geom)
SELECT {region}, 'u' || (g % 50), timestamptz '2026-06-01 00:00+08' + g * interval '1 second',
       ST_SetSRID(ST_MakePoint(
           CASE WHEN g % 100 = 98 THEN {x0} + 100.0 * (1 + g % ({side} - 1))
                WHEN g % 100 = 99 THEN {x0} - 50.0
                ELSE {x0} + random() * {side} * 100.0 END,
           {y0} + random() * {side} * 100.0), {srid})
FROM generate_series(1, {fixes}) g;
INSERT INTO national.{incidents_part} (region, id, type, occurred_at, geom, area_code)
SELECT {region}, g, (ARRAY['fire', 'robbery', 'theft', 'assault', 'dispute'])[1 + g % 5],
       timestamptz {as_of} - random() * interval '365 days', p.geom,
       {region} || '-' || lpad((floor((ST_Y(p.geom) - {y0}) / 100.0) * {side}
                                + floor((ST_X(p.geom) - {x0}) / 100.0))::int::text, 6, '0')
FROM generate_series(1, {incidents}) g,
     LATERAL (SELECT ST_SetSRID(ST_MakePoint({x0} + random() * {side} * 99.99,
                                             {y0} + random() * {side} * 99.99 + g * 0), {srid})
              AS geom) p;
ANALYZE national.{micro_grids_part};
ANALYZE national.{fixes_part};
ANALYZE national.{incidents_part};
