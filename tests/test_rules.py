"""The rules written as SQL functions (migration r0015) agree with their Python statements.

``hazard_score`` with :attr:`geo.assessment.Assessment.score` over every value of the LEC and
LS scales; ``hazard_colour`` (and ``band_colour`` under it) with :func:`geo.assessment.classify`
over every score those scales can give and every band edge with its neighbours on either side,
under the default bands and under others; ``micro_grids_under`` with the hierarchy it walks;
``tile_bounds`` with the envelope it stands for; and who owns and may run them.
"""

from __future__ import annotations

import itertools
import math

import pytest
from shapely import wkb
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geo.assessment import (
    LEC_C,
    LEC_E,
    LEC_L,
    LS_VALUES,
    Assessment,
    Method,
    band_bounds,
    bands,
    classify,
)
from geo.settings import Settings
from tests.districts import store_areas


def test_hazard_score_is_the_assessments_score(db: Engine) -> None:
    lec = [Assessment.lec(*v) for v in itertools.product(LEC_L, LEC_E, LEC_C)]
    ls = [Assessment.ls(*v) for v in itertools.product(LS_VALUES, LS_VALUES)]
    rows = [(a.method.value, *a.values, None, None) for a in lec]
    rows += [(a.method.value, None, None, None, *a.values) for a in ls]
    with db.connect() as conn:
        scores = conn.execute(
            text(
                "SELECT hazard_score(m, l, e, c, ll, ls) FROM unnest("
                "CAST(:m AS text[]), CAST(:l AS float8[]), CAST(:e AS float8[]), "
                "CAST(:c AS float8[]), CAST(:ll AS float8[]), CAST(:ls AS float8[])) "
                "WITH ORDINALITY AS r(m, l, e, c, ll, ls, n) ORDER BY n"
            ),
            {k: [r[i] for r in rows] for i, k in enumerate(("m", "l", "e", "c", "ll", "ls"))},
        ).scalars()
        assert list(scores) == [a.score for a in lec + ls]


def _scores(method: Method, settings: Settings) -> list[float]:
    """Every score the method's scale gives, each band edge and its float neighbours."""
    if method is Method.LEC:
        given = {float(math.prod(v)) for v in itertools.product(LEC_L, LEC_E, LEC_C)}
    else:
        given = {float(a * b) for a, b in itertools.product(LS_VALUES, LS_VALUES)}
    edges = {
        near
        for edge in bands(method, settings.risk)
        for near in (math.nextafter(edge, -math.inf), edge, math.nextafter(edge, math.inf))
    }
    return sorted(given | edges | {0.0, -1.0, 1e9})


@pytest.mark.parametrize(
    "update",
    [
        {},
        {"lec_red_min": 400, "lec_orange_min": 200, "lec_yellow_min": 50},
        {"ls_red_min": 16, "ls_orange_min": 10, "ls_yellow_min": 4.5},
    ],
    ids=["default", "other LEC bands", "other LS bands"],
)
def test_hazard_colour_is_classify(
    db: Engine, db_settings: Settings, update: dict[str, float]
) -> None:
    settings = db_settings.replace(**update)
    with db.connect() as conn:
        for method in Method:
            scores = _scores(method, settings)
            colours = conn.execute(
                text(
                    "SELECT hazard_colour(:method, s, CAST(:lec_bands AS float8[]), "
                    "CAST(:ls_bands AS float8[])) "
                    "FROM unnest(CAST(:scores AS float8[])) WITH ORDINALITY AS r(s, n) ORDER BY n"
                ),
                {"method": method.value, "scores": scores, **band_bounds(settings.risk)},
            ).scalars()
            expected = [classify(method, s, settings.risk).value for s in scores]
            assert list(colours) == expected, method


def _square(x: float, y: float, side: float) -> str:
    x, y = 500_000 + x, 3_800_000 + y
    return f"MULTIPOLYGON((({x} {y},{x + side} {y},{x + side} {y + side},{x} {y + side},{x} {y})))"


def test_micro_grids_under_is_the_subtree(db: Engine, db_settings: Settings) -> None:
    """Two grid3s under one grid2, a micro-grid apart under the top: each area's micro-grids."""
    rows: list[tuple[str, str, str | None, list[str], str]] = [
        ("S", "subdistrict", None, [], _square(0, 0, 400)),
        ("G", "grid2", "S", ["S"], _square(0, 0, 200)),
        ("T1", "grid3", "G", ["S", "G"], _square(0, 0, 100)),
        ("T2", "grid3", "G", ["S", "G"], _square(100, 0, 100)),
        ("M1", "micro", "T1", ["S", "G", "T1"], _square(0, 0, 50)),
        ("M2", "micro", "T1", ["S", "G", "T1"], _square(50, 0, 50)),
        ("M3", "micro", "T2", ["S", "G", "T2"], _square(100, 0, 50)),
        ("M4", "micro", "S", ["S"], _square(300, 0, 50)),
    ]
    expected = {
        "S": {"M1", "M2", "M3", "M4"},
        "G": {"M1", "M2", "M3"},
        "T1": {"M1", "M2"},
        "T2": {"M3"},
        "M2": {"M2"},
        "nowhere": set(),
    }
    with db.begin() as conn:
        store_areas(conn, db_settings.region, rows)
        for area, micro in expected.items():
            got = conn.execute(
                text("SELECT code FROM micro_grids_under(:region, :area)"),
                {"region": db_settings.region, "area": area},
            ).scalars()
            assert set(got) == micro, area
        other = conn.execute(
            text("SELECT count(*) FROM micro_grids_under('elsewhere', 'S')")
        ).scalar_one()
        assert other == 0


def test_tile_bounds_is_the_buffered_envelope(db: Engine, db_settings: Settings) -> None:
    with db.connect() as conn:
        for gcj02 in (False, True):
            env, env_src, tile, buffered = conn.execute(
                text(
                    "SELECT ST_AsBinary(b.env), ST_AsBinary(b.env_src), "
                    "ST_AsBinary(ST_TileEnvelope(15, 26700, 13200)), "
                    "ST_AsBinary(ST_Transform(ST_TileEnvelope(15, 26700, 13200, "
                    "margin => 64.0 / 4096), :srid)) "
                    "FROM tile_bounds(15, 26700, 13200, :srid, :gcj02) b"
                ),
                {"srid": db_settings.srid, "gcj02": gcj02},
            ).one()
            assert wkb.loads(env).equals(wkb.loads(tile))
            widened = wkb.loads(buffered).envelope.buffer(1000 if gcj02 else 0, join_style="mitre")
            assert wkb.loads(env_src).equals_exact(widened, tolerance=1e-6)


RULES = ("hazard_score", "band_colour", "hazard_colour", "micro_grids_under", "tile_bounds")


def test_the_rules_belong_to_the_owner_and_the_app_may_run_them(
    db: Engine, db_settings: Settings
) -> None:
    """Owned by the owner login; executable by the app's login and the scoped role, not by
    PUBLIC; inlinable (SQL, not STRICT, no SET clause) and PARALLEL SAFE."""
    owner = make_url(db_settings.db.owner_database_url).username
    app = make_url(db_settings.db.database_url).username
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.proname, pg_get_userbyid(p.proowner), l.lanname, p.provolatile, "
                "p.proparallel, p.proisstrict, p.proconfig, "
                "has_function_privilege(:app, p.oid, 'EXECUTE'), "
                "has_function_privilege('gridsafe_scoped', p.oid, 'EXECUTE'), "
                "EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0) "
                "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                "WHERE p.proname = ANY(:names) AND p.pronamespace = 'public'::regnamespace"
            ),
            {"app": app, "names": list(RULES)},
        ).all()
    assert sorted(r[0] for r in rows) == sorted(RULES)
    for (
        name,
        who,
        language,
        volatile,
        parallel,
        strict,
        config,
        app_may,
        scoped_may,
        public,
    ) in rows:
        assert who == owner, name
        assert (language, parallel, strict, config) == ("sql", "s", False, None), name
        assert volatile in {"i", "s"}, name
        assert (app_may, scoped_may, public) == (True, True, False), name
