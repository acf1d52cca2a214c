"""The four-colour risk engine on hand-made districts whose colours are worked out by hand.

The district: a 10 × 10 grid of 100 m micro-grids (``Mrc``, row r, column c; 0.01 km² each)
under two level-3 grids (columns 0-4 and 5-9), one level-2 grid and one sub-district. Records are
written straight into the tables, with ``area_code``/``area_path`` as the importer would set them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from esda.smoothing import Empirical_Bayes
from fastapi.testclient import TestClient
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text

from geo import clock
from geo.assessment import Colour, Method, classify
from geo.errors import NotFoundError
from geo.levels import Level
from geo.risk import as_of_instant, compute_risk, evaluate, risk_detail, run_risk
from geo.risk.compute import _rounded
from geo.risk.evaluate import raw_count_hits
from geo.risk.smoothing import empirical_bayes
from geo.settings import Settings
from tests.clients import api_client

TZ = ZoneInfo("Asia/Shanghai")
X0, Y0, CELL = 460_000.0, 3_840_000.0, 100.0
REGION = "410105010"


def cell(r: int, c: int) -> shapely.Polygon:
    """The square of micro-grid Mrc."""
    x, y = X0 + c * CELL, Y0 + r * CELL
    return shapely.box(x, y, x + CELL, y + CELL)


def grid3_of(code: str) -> str:
    """Micro-grids in columns 0-4 belong to G3A, 5-9 to G3B."""
    return "G3A" if int(code[-1]) < 5 else "G3B"


def add_area(
    engine: Engine,
    code: str,
    level: Level,
    geom: BaseGeometry,
    parent: str | None,
    ancestors: list[str],
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
                "VALUES (:region, :code, :name, :level, :parent, :anc, "
                "ST_Multi(ST_GeomFromText(:wkt, 4547)))"
            ),
            {
                "region": REGION,
                "code": code,
                "name": f"area {code}",
                "level": level.value,
                "parent": parent,
                "anc": ancestors,
                "wkt": geom.wkt,
            },
        )


def make_district(
    engine: Engine, micro: dict[str, BaseGeometry] | None = None
) -> dict[str, BaseGeometry]:
    """The 10 × 10 district (or the micro-grids given), with its three levels above."""
    if micro is None:
        micro = {f"M{r}{c}": cell(r, c) for r in range(10) for c in range(10)}
    whole = shapely.union_all(list(micro.values()))
    add_area(engine, "S", Level.SUBDISTRICT, whole, None, [])
    add_area(engine, "G2", Level.GRID2, whole, "S", ["S"])
    for g3 in ("G3A", "G3B"):
        part = shapely.union_all([g for code, g in micro.items() if grid3_of(code) == g3])
        add_area(engine, g3, Level.GRID3, part, "G2", ["S", "G2"])
    for code, geom in micro.items():
        add_area(engine, code, Level.MICRO, geom, grid3_of(code), ["S", "G2", grid3_of(code)])
    return micro


def path(code: str) -> list[str]:
    return ["S", "G2", grid3_of(code), code]


_ids = iter(range(1, 1_000_000))


def add_incident(
    engine: Engine,
    code: str,
    kind: str,
    occurred: datetime,
    reported: datetime | None = None,
    *,
    where: shapely.Point | None = None,
) -> None:
    point = where or cell(int(code[1]), int(code[2])).centroid
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                "reported_at, geom, area_code, area_path) VALUES (:region, 'test', :sid, :type, "
                ":occ, :rep, ST_GeomFromText(:wkt, 4547), :code, :path)"
            ),
            {
                "region": REGION,
                "sid": str(next(_ids)),
                "type": kind,
                "occ": occurred,
                "rep": reported or occurred,
                "wkt": point.wkt,
                "code": code,
                "path": path(code),
            },
        )


def add_hazard(
    engine: Engine,
    code: str,
    name: str,
    *,
    lec: tuple[float, float, float] | None = None,
    ls: tuple[int, int] | None = None,
    identified: datetime,
    closed: datetime | None = None,
) -> None:
    l_, e_, c_ = lec or (None, None, None)
    sl, ss = ls or (None, None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hazards (region, source, source_id, category, name, method, lec_l, "
                "lec_e, lec_c, ls_l, ls_s, status, identified_at, closed_at, geom, area_code, "
                "area_path) VALUES (:region, 'test', :sid, 'fire safety', :name, :method, :l, :e, "
                ":c, :sl, :ss, :status, :ident, :closed, "
                "ST_GeomFromText(:wkt, 4547), :code, :path)"
            ),
            {
                "region": REGION,
                "sid": str(next(_ids)),
                "name": name,
                "method": "LEC" if lec else "LS",
                "l": l_,
                "e": e_,
                "c": c_,
                "sl": sl,
                "ss": ss,
                "status": "closed" if closed else "open",
                "ident": identified,
                "closed": closed,
                "wkt": cell(int(code[1]), int(code[2])).centroid.wkt,
                "code": code,
                "path": path(code),
            },
        )


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    return db_settings.replace(region=REGION)


# --- hazards -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "score", "colour"),
    [
        (Method.LEC, 320, Colour.RED),
        (Method.LEC, 319.99, Colour.ORANGE),
        (Method.LEC, 160, Colour.ORANGE),
        (Method.LEC, 159.99, Colour.YELLOW),
        (Method.LEC, 70, Colour.YELLOW),
        (Method.LEC, 69.99, Colour.BLUE),
        (Method.LS, 20, Colour.RED),
        (Method.LS, 19, Colour.ORANGE),
        (Method.LS, 15, Colour.ORANGE),
        (Method.LS, 14, Colour.YELLOW),
        (Method.LS, 9, Colour.YELLOW),
        (Method.LS, 8, Colour.BLUE),
    ],
)
def test_bands_at_each_edge(method: Method, score: float, colour: Colour) -> None:
    """The engine colours hazards through geo/assessment.py's bands: D >= 320 is red, etc."""
    assert classify(method, score, Settings().risk) is colour


def test_hazard_colours_and_roll_up(db: Engine, settings: Settings) -> None:
    """320 and 160 are not products of the LEC scales; their nearest neighbours on each side are
    360 = 3·3·40 and 300 = 0.5·6·100, 180 = 6·2·15 and 150 = 0.5·3·100; 70 = 1·10·7 exactly and
    63 = 3·3·7. With no incidents every score is 25 × severity, and a level-3 grid's score is the
    mean over its 50 equal micro-grids."""
    make_district(db)
    when = at(date(2026, 1, 1))
    cases = {
        "M00": ((3, 3, 40), Colour.RED),
        "M01": ((0.5, 6, 100), Colour.ORANGE),
        "M02": ((6, 2, 15), Colour.ORANGE),
        "M03": ((0.5, 3, 100), Colour.YELLOW),
        "M04": ((1, 10, 7), Colour.YELLOW),
        "M10": ((3, 3, 7), Colour.BLUE),
    }
    for code, (lec, _) in cases.items():
        add_hazard(db, code, f"hazard {code}", lec=lec, identified=when)
    add_hazard(db, "M05", "gas LS 4x5", ls=(4, 5), identified=when)  # R = 20: red
    add_hazard(db, "M06", "gas LS 3x5", ls=(3, 5), identified=when)  # R = 15: orange
    add_hazard(db, "M07", "gas LS 2x4", ls=(2, 4), identified=when)  # R = 8: blue
    add_hazard(db, "M07", "gas LS 3x3", ls=(3, 3), identified=when)  # R = 9: yellow, the worse

    result = compute_risk(db, settings, as_of=as_of_instant(date(2026, 1, 2), "Asia/Shanghai"))
    areas = result.by_code()
    for code, (_, colour) in cases.items():
        assert areas[code].colour is colour, code
        assert areas[code].hazard_colour is colour
        assert areas[code].incident_colour is Colour.BLUE
    assert areas["M05"].colour is Colour.RED
    assert areas["M06"].colour is Colour.ORANGE
    assert areas["M07"].colour is Colour.YELLOW
    assert [h["score"] for h in areas["M07"].reasons["hazards"]] == [9, 8]  # ranked, worst first
    assert areas["M00"].reasons["hazards"][0]["score"] == 360
    assert areas["M00"].score == 75.0

    # G3A (columns 0-4): red 75 + orange 50 + orange 50 + yellow 25 + yellow 25 over 50 cells.
    assert areas["G3A"].colour is Colour.RED
    assert areas["G3A"].score == pytest.approx(225 / 50)
    # G3B (columns 5-9): red 75 (M05) + orange 50 (M06) + yellow 25 (M07).
    assert areas["G3B"].score == pytest.approx(150 / 50)
    assert areas["S"].colour is Colour.RED
    assert areas["S"].score == pytest.approx(375 / 100)
    assert areas["S"].reasons["micro_colours"] == {"red": 2, "orange": 3, "yellow": 3, "blue": 92}
    assert [c["code"] for c in areas["G2"].reasons["children"]] == ["G3A", "G3B"]
    assert areas["S"].reasons["hazards_total"] == 10


def test_closed_hazard_stops_counting_on_its_close_day(db: Engine, settings: Settings) -> None:
    make_district(db)
    add_hazard(
        db,
        "M55",
        "blocked fire exit",
        lec=(3, 3, 40),
        identified=at(date(2026, 1, 10)),
        closed=datetime(2026, 3, 10, 9, 30, tzinfo=TZ),
    )

    def colour(day: date) -> Colour:
        result = compute_risk(db, settings, as_of=as_of_instant(day, "Asia/Shanghai"))
        return result.by_code()["M55"].colour

    assert colour(date(2026, 1, 9)) is Colour.BLUE  # not yet identified
    assert colour(date(2026, 1, 10)) is Colour.RED
    assert colour(date(2026, 3, 9)) is Colour.RED  # the day before it closed
    assert colour(date(2026, 3, 10)) is Colour.BLUE  # closed that morning
    assert colour(date(2026, 4, 1)) is Colour.BLUE


def test_invalid_stored_assessment_is_named_not_scored(db: Engine, settings: Settings) -> None:
    """An LEC L of 7 written around the importer is an error, not a number."""
    make_district(db)
    add_hazard(db, "M11", "bad L", lec=(7, 3, 40), identified=at(date(2026, 1, 1)))
    result = compute_risk(db, settings, as_of=at(date(2026, 2, 1)))
    assert result.by_code()["M11"].colour is Colour.BLUE
    [bad] = result.summary["hazards_invalid"]
    assert "LEC L = 7 is not on the scale" in bad["reason"]


# --- incidents -----------------------------------------------------------------------------------


def test_fire_last_week_outweighs_ten_disputes_last_year(db: Engine, settings: Settings) -> None:
    """Fire weight 10 × 0.5^(7/90) = 9.4752 vs ten disputes 10 × 1 × 0.5^(360/90) = 0.625:
    per 0.01 km², 947.52 vs 62.5. Of two affected micro-grids the fire's is at the top (red tier)
    but a lone cell is no cluster (its neighbours are all quiet), so it shows orange; the
    disputes fall below the median of the two (blue)."""
    make_district(db)
    as_of = as_of_instant(date(2026, 6, 30), "Asia/Shanghai")
    add_incident(db, "M22", "fire", as_of - timedelta(days=7))
    for _ in range(10):
        add_incident(db, "M77", "dispute", as_of - timedelta(days=360))
    areas = compute_risk(db, settings, as_of=as_of).by_code()
    fire, disputes = areas["M22"], areas["M77"]
    assert fire.intensity_km2 == pytest.approx(10 * 0.5 ** (7 / 90) / 0.01)
    assert disputes.intensity_km2 == pytest.approx(10 * 0.5**4 / 0.01)
    assert fire.reasons["incident_tier"] == "red"
    assert fire.significant is False
    assert fire.colour is Colour.ORANGE
    assert fire.reasons["capped_by_significance"] is True
    assert disputes.colour is Colour.BLUE
    assert fire.score > disputes.score
    assert disputes.reasons["incidents"] == [{"type": "dispute", "count": 10, "weighted": 0.625}]
    assert areas["G3A"].reasons["incidents"][0]["type"] == "fire"


def test_tiny_micro_grid_and_real_cluster(db: Engine, settings: Settings) -> None:
    """M00 is cut into a 10 m square ``T`` (100 m², 1/100 of a cell) and the L-shaped rest. One
    police call in T is 1 × 0.5^(10/90) / 0.0001 km² = 9259 per km², ten times the densest real
    cluster; a 3 × 3 block M66-M88 with five disputes each is the cluster. T must not be red by
    itself: smoothing shrinks it (its own base says little) and its only neighbour is quiet."""
    micro: dict[str, BaseGeometry] = {f"M{r}{c}": cell(r, c) for r in range(10) for c in range(10)}
    tiny = shapely.box(X0, Y0, X0 + 10, Y0 + 10)
    micro["M00"] = micro["M00"].difference(tiny)
    micro["T0"] = tiny  # grid3_of("T0") == "G3A"
    make_district(db, micro)
    as_of = as_of_instant(date(2026, 6, 30), "Asia/Shanghai")
    add_incident(db, "T0", "police_call", as_of - timedelta(days=10), where=tiny.centroid)
    block = [f"M{r}{c}" for r in (6, 7, 8) for c in (6, 7, 8)]
    for code in block:
        for _ in range(5):
            add_incident(db, code, "dispute", as_of - timedelta(days=10))
    for code in ("M13", "M31", "M35", "M51", "M93", "M19"):
        add_incident(db, code, "dispute", as_of - timedelta(days=10))

    result = compute_risk(db, settings, as_of=as_of)
    areas = result.by_code()
    t = areas["T0"]
    assert t.intensity_km2 == pytest.approx(0.5 ** (10 / 90) / 0.0001)
    assert t.intensity_km2 == max(a.intensity_km2 for a in result.level(Level.MICRO))
    assert t.colour is not Colour.RED
    assert t.significant is False
    assert t.smoothed_km2 is not None
    # Smoothing pulls it down twenty-fold, yet it still tops the tier bounds: what keeps it from
    # red is the gate (its one neighbour is quiet, so Gi* finds no cluster).
    assert t.smoothed_km2 < t.intensity_km2 / 20
    assert t.reasons["incident_tier"] == "red"
    assert t.reasons["capped_by_significance"] is True
    assert t.colour is Colour.ORANGE
    # The block's centre has every neighbour high: p = 1/1000, a discovery under any FDR here.
    assert areas["M77"].gi_p == pytest.approx(0.001)
    assert areas["M77"].colour is Colour.RED
    assert {c for c in block if areas[c].colour is Colour.RED} >= {"M77"}
    assert all(areas[c].colour in (Colour.RED, Colour.ORANGE) for c in block)
    for lone in ("M13", "M31", "M35", "M51", "M93", "M19"):
        assert areas[lone].colour is not Colour.RED


def test_as_of_ignores_records_reported_later(db: Engine, settings: Settings) -> None:
    make_district(db)
    add_incident(db, "M44", "robbery", at(date(2026, 3, 1)), reported=at(date(2026, 3, 5), hour=18))
    before = compute_risk(db, settings, as_of=as_of_instant(date(2026, 3, 4), "Asia/Shanghai"))
    after = compute_risk(db, settings, as_of=as_of_instant(date(2026, 3, 5), "Asia/Shanghai"))
    assert before.by_code()["M44"].reasons["incidents_total"] == 0
    assert before.summary["incidents_used"] == 0
    assert after.by_code()["M44"].reasons["incidents_total"] == 1
    # Four days and a bit old on 5 March 23:59:59.999999: 8 × 0.5^(age/90) per 0.01 km².
    age = (as_of_instant(date(2026, 3, 5), "Asia/Shanghai") - at(date(2026, 3, 1))).total_seconds()
    expected = 8 * 0.5 ** (age / 86400 / 90) / 0.01
    assert after.by_code()["M44"].intensity_km2 == pytest.approx(expected)


def test_empirical_bayes_by_hand_and_against_esda() -> None:
    """Three areas of base 1, 1, 2 with 0, 2, 4 events: m = 6/4 = 1.5; rates 0, 2, 2;
    s² = (1·2.25 + 1·0.25 + 2·0.25) / 4 = 0.75; m/b̄ = 1.5/(4/3) = 1.125 > s², so A = 0 and
    every area shrinks to 1.5 (esda's formula would give a negative weight here)."""
    assert np.allclose(empirical_bayes([0, 2, 4], [1, 1, 2]), [1.5, 1.5, 1.5])
    rng = np.random.default_rng(1)
    base = rng.uniform(0.5, 5, 50)
    events = rng.poisson(base * rng.gamma(2, 3, 50)).astype(float)
    assert np.allclose(empirical_bayes(events, base), Empirical_Bayes(events, base).r.ravel())


# --- storage, API, evaluation --------------------------------------------------------------------


@pytest.fixture
def client(db: Engine, settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as c:
        yield c


def test_store_api_previous_colour_and_history(
    db: Engine, settings: Settings, client: TestClient
) -> None:
    make_district(db)
    add_hazard(
        db,
        "M55",
        "gas cylinders",
        lec=(3, 3, 40),
        identified=at(date(2026, 1, 1)),
        closed=at(date(2026, 2, 15)),
    )
    run_risk(db, settings, as_of=as_of_instant(date(2026, 2, 1), "Asia/Shanghai"))
    run_risk(db, settings, as_of=as_of_instant(date(2026, 3, 1), "Asia/Shanghai"))
    with db.connect() as conn:
        # The planner knows every stored score (ANALYZE after each run): without statistics the
        # colour join of maps and tiles scanned all the region's scores per area.
        stored, estimated = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM risk_scores), "
                "(SELECT reltuples FROM pg_class WHERE oid = 'risk_scores'::regclass)"
            )
        ).one()
    assert estimated == stored > 0

    fc = client.get("/api/risk", params={"level": "micro", "as_of": "2026-03-10"}).json()
    assert len(fc["features"]) == 100
    m55 = next(f for f in fc["features"] if f["properties"]["code"] == "M55")["properties"]
    assert (m55["colour"], m55["previous_colour"]) == ("blue", "red")
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 113 < lon < 114  # EPSG:4326
    assert 34 < lat < 35

    old = client.get("/api/risk", params={"level": "grid3", "as_of": "2026-02-10"}).json()
    colours = {f["properties"]["code"]: f["properties"]["colour"] for f in old["features"]}
    assert colours == {"G3A": "blue", "G3B": "red"}
    assert old["features"][1]["properties"]["previous_colour"] is None

    detail = client.get("/api/risk/M55", params={"as_of": "2026-02-10"}).json()
    assert detail["colour"] == "red"
    assert detail["reasons"]["hazards"][0]["name"] == "gas cylinders"
    assert detail["thresholds"]["lec_bands"] == [320, 160, 70]
    assert detail["hotspot"]["significant"] is False
    assert [h["colour"] for h in detail["history"]] == ["red", "blue"]
    assert client.get("/api/risk/NOPE").status_code == 404
    assert client.get("/api/risk", params={"level": "nope"}).status_code == 422


def test_on_demand_computation_only_for_today(db: Engine, settings: Settings) -> None:
    make_district(db)
    with pytest.raises(NotFoundError, match="gridsafe risk compute --as-of 2025-12-31"):
        risk_detail(db, region=REGION, code="S", as_of=date(2025, 12, 31), settings=settings)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM risk_runs")).scalar() == 0
    today = clock.today(settings.timezone)
    detail = risk_detail(db, region=REGION, code="S", as_of=today, settings=settings)
    assert detail["colour"] == "blue"
    assert detail["run"]["as_of"].startswith(today.isoformat())
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM risk_runs")).scalar() == 1


def test_raw_count_baseline_takes_a_fraction_of_the_last_area() -> None:
    """Target 250 m² over areas of 100: A (5 past) and B (3 past) whole, half of C (1 past)."""
    areas = {"A": 100.0, "B": 100.0, "C": 100.0, "D": 100.0}
    hits = raw_count_hits({"A": 5, "B": 3, "C": 1}, {"A": 1, "C": 4, "D": 9}, areas, 250.0)
    assert hits == pytest.approx(1 + 0 + 0.5 * 4)


def test_evaluation_by_hand(db: Engine, settings: Settings) -> None:
    """Before the split only the 3 × 3 block M66-M88 had incidents (200 days earlier, so the
    last 90 days are empty and the raw-count baseline falls back to code order: M00-M08). The
    map's red+orange is the block: 9 % of the area. Next 90 days: 6 incidents in the block, one
    in M00, three elsewhere. Map: 6/10 = 60 %, PAI 0.6/0.09 = 6.67; raw counts: 1/10, PAI 1.11;
    uniform: 9 %, PAI 1."""
    make_district(db)
    split = as_of_instant(date(2026, 6, 30), "Asia/Shanghai")
    block = [f"M{r}{c}" for r in (6, 7, 8) for c in (6, 7, 8)]
    for code in block:
        for _ in range(4):
            add_incident(db, code, "theft", split - timedelta(days=200))
    for code in ["M66", "M67", "M77", "M88", "M86", "M78", "M00", "M30", "M41", "M52"]:
        add_incident(db, code, "theft", split + timedelta(days=20))
    add_incident(db, "M99", "theft", split + timedelta(days=91))  # after the period

    ev = evaluate(db, settings, split=date(2026, 6, 30), period_days=90)
    hot = {a.code for a in ev.result.level(Level.MICRO) if a.colour in (Colour.RED, Colour.ORANGE)}
    assert hot == set(block)
    assert ev.incidents_next == 10
    engine_row, raw, uniform = ev.scores
    assert engine_row.area_share == pytest.approx(0.09)
    assert (engine_row.hit_rate, raw.hit_rate, uniform.hit_rate) == pytest.approx((0.6, 0.1, 0.09))
    assert engine_row.pai == pytest.approx(0.6 / 0.09)
    assert raw.pai == pytest.approx(0.1 / 0.09)
    assert uniform.pai == pytest.approx(1.0)
    assert not math.isnan(engine_row.incidents_inside)


def test_reasons_round_each_value_as_python_does() -> None:
    """The reasons' vectorised rounding gives round()'s floats: halves, values a rounding error
    from a half, signed zeros, huge and non-finite values (None, as JSON has no NaN)."""
    rng = np.random.default_rng(4)
    values = np.concatenate(
        [
            rng.normal(0, 1, 50_000) * 10.0 ** rng.integers(-6, 8, 50_000),
            (rng.integers(-(10**9), 10**9, 50_000) + 0.5) / 1e4,
            [2.675, 1.00005, -0.00005, 0.00015, -0.0, 4503599627370496.5, 1e300],
            [np.nan, np.inf, -np.inf],
        ]
    )
    expected = [None if not math.isfinite(v) else round(v, 4) for v in values.tolist()]
    got = _rounded(values)
    assert got == expected
    assert [math.copysign(1, v) for v in got if v is not None] == [
        math.copysign(1, v) for v in expected if v is not None
    ]
