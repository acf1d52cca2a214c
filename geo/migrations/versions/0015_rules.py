"""Rules that many queries share, written once as SQL functions the SQL files call.

- ``hazard_score(method, lec_l, lec_e, lec_c, ls_l, ls_s)``: D = L × E × C for an LEC
  assessment, R = L × S for an LS one (the methods of ``geo/assessment.py``).
- ``band_colour(score, bands)``: red when ``score >= bands[1]``, orange from ``bands[2]``,
  yellow from ``bands[3]``, else blue (``geo.assessment.classify``); the bounds are not written
  here but passed in from the settings (``geo.assessment.band_bounds``).
- ``hazard_colour(method, score, lec_bands, ls_bands)``: ``band_colour`` with the method's bands.
- ``micro_grids_under(region, area)``: the codes of the micro-grids in ``area`` or any area
  below it (``area`` itself when it is a micro-grid): "this area or any below it" for the lists
  and statistics, as ``record.area_code IN (SELECT code FROM micro_grids_under(...))`` so that
  the planner inlines it and reads the areas' indexes.
- ``tile_bounds(z, x, y, srid, gcj02)``: a vector tile's web-mercator envelope and, for the
  ``&&`` filter on the GiST index, the envelope widened by the tile buffer (64/4096) and moved
  into the storage CRS (1 km wider for a GCJ-02 basemap, whose shift moves features up to
  ~700 m).

tests/test_rules.py checks the score and the colours against ``geo.assessment`` over every
scale value and every band edge. The functions are SQL-language and IMMUTABLE or STABLE, not
STRICT and with no SET clause, so the planner inlines them into the calling query; PARALLEL
SAFE. They belong to the owner login that runs the migrations; the app's roles may execute them.

``CREATE OR REPLACE`` makes the upgrade safe to repeat.

Revision ID: r0015
Revises: m0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "r0015"
down_revision = "m0014"
branch_labels = None
depends_on = None

ROLES = "gridsafe_app, gridsafe_scoped"

SIGNATURES = (
    "hazard_score(text, float8, float8, float8, float8, float8)",
    "band_colour(float8, float8[])",
    "hazard_colour(text, float8, float8[], float8[])",
    "micro_grids_under(text, text)",
    "tile_bounds(integer, integer, integer, integer, boolean)",
)

FUNCTIONS = """
CREATE OR REPLACE FUNCTION hazard_score(
    method text, lec_l float8, lec_e float8, lec_c float8, ls_l float8, ls_s float8
) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE method WHEN 'LEC' THEN lec_l * lec_e * lec_c ELSE ls_l * ls_s END
$$;
COMMENT ON FUNCTION hazard_score(text, float8, float8, float8, float8, float8) IS
    'A hazard''s assessment score: D = L*E*C (LEC) or R = L*S (LS).';

CREATE OR REPLACE FUNCTION band_colour(score float8, bands float8[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN score >= bands[1] THEN 'red'
                WHEN score >= bands[2] THEN 'orange'
                WHEN score >= bands[3] THEN 'yellow'
                ELSE 'blue' END
$$;
COMMENT ON FUNCTION band_colour(float8, float8[]) IS
    'The colour of a score under bands {red, orange, yellow} (lower bounds); below them blue.';

CREATE OR REPLACE FUNCTION hazard_colour(
    method text, score float8, lec_bands float8[], ls_bands float8[]
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT band_colour(score, CASE method WHEN 'LEC' THEN lec_bands ELSE ls_bands END)
$$;
COMMENT ON FUNCTION hazard_colour(text, float8, float8[], float8[]) IS
    'The colour of a hazard score under its method''s bands.';

CREATE OR REPLACE FUNCTION micro_grids_under(region text, area text)
RETURNS TABLE (code text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT d.code FROM areas d
    WHERE d.region = $1 AND d.level = 'micro' AND (d.code = $2 OR d.ancestors @> ARRAY[$2])
$$;
COMMENT ON FUNCTION micro_grids_under(text, text) IS
    'The micro-grids in an area or any area below it (the area itself when it is one).';

CREATE OR REPLACE FUNCTION tile_bounds(z integer, x integer, y integer, srid integer,
                                       gcj02 boolean)
RETURNS TABLE (env geometry, env_src geometry)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ST_TileEnvelope(z, x, y),
           ST_Expand(ST_Transform(ST_TileEnvelope(z, x, y, margin => 0.015625), srid),
                     CASE WHEN gcj02 THEN 1000 ELSE 0 END)
$$;
COMMENT ON FUNCTION tile_bounds(integer, integer, integer, integer, boolean) IS
    'A tile''s web-mercator envelope, and the buffered envelope in the storage CRS to filter on.';
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    signatures = ", ".join(SIGNATURES)
    op.execute(f"REVOKE ALL ON FUNCTION {signatures} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signatures} TO {ROLES}")


def downgrade() -> None:
    for signature in reversed(SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
