"""The ``gridsafe`` command line."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from api.cli_common import err, fail, out
from api.cli_risk import risk_app
from api.cli_routes import import_osm_cmd, network_app, routes_app
from api.cli_users import user_app
from geo import clock
from geo.access import add_demo_users, demo_passwords_left, list_users
from geo.boundaries import import_boundaries
from geo.cases_demo import seed_demo_cases
from geo.coverage.checkins import import_checkins
from geo.coverage.covered import refresh
from geo.coverage.periods import last_days
from geo.coverage.tracks import import_tracks
from geo.database import Acting, ensure_database, init_db, make_engine, set_acting
from geo.errors import GridsafeError
from geo.layers import import_layer
from geo.levels import Level
from geo.locate import relocate
from geo.records import add_incident_type, import_records, incident_types
from geo.report import ImportReport
from geo.risk import run_risk
from geo.routing.network import build_network
from geo.routing.units_demo import register_demo_units
from geo.settings import Settings, get_settings

app = typer.Typer(
    help="gridsafe: four-colour risk maps, patrol coverage and routes.", no_args_is_help=True
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import files (GeoJSON, GeoPackage, Shapefile, CSV).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(risk_app, name="risk")
app.add_typer(network_app, name="network")
app.add_typer(routes_app, name="routes")
app.add_typer(user_app, name="user")


DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"

T = TypeVar("T")

CrsOption = Annotated[
    str | None, typer.Option("--crs", help="EPSG code (EPSG:4490, 4326, ...), gcj02 or bd09")
]


def _run(step: Callable[[], T]) -> T:
    """Run a step, turning a domain error into its message and exit code 1 (no traceback).

    Each step (an import, a risk run, a re-location) is one database transaction, so a step cut
    short by a lost database connection or by Ctrl-C leaves nothing of itself behind: the
    server rolls back a transaction whose connection ends.
    """
    try:
        return step()
    except GridsafeError as exc:
        raise fail(exc) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        err.print(
            f"[red]error:[/red] lost the database during this step ({reason}); nothing of "
            "the step was written. Run the command again when the database is back.",
            markup=True,
            highlight=False,
        )
        raise typer.Exit(1) from exc
    except KeyboardInterrupt as exc:
        err.print(
            "interrupted: the step under way was rolled back, nothing of it was written; "
            "run the command again to complete it",
            highlight=False,
        )
        raise typer.Exit(130) from exc


def _print_report(report: ImportReport) -> None:
    for line in report.lines():
        out.print(line, markup=False, highlight=False)
    if report.loaded == 0:
        raise typer.Exit(1)


def _prepare(settings: Settings) -> None:
    created = _run(lambda: ensure_database(settings))
    engine = make_engine(settings, owner=True)
    try:
        revision = _run(lambda: init_db(engine, settings))
    finally:
        engine.dispose()
    what = "created" if created else "up to date"
    out.print(f"database {what}, schema at revision {revision}", highlight=False)


@app.callback()
def main() -> None:
    """Every change the command line makes is audited under the operating-system user."""
    set_acting(Acting(actor=f"cli:{getpass.getuser()}"))


@db_app.command("init")
def db_init() -> None:
    """Create the database and schema, or upgrade them; safe to repeat."""
    _prepare(get_settings())


@import_app.command("boundaries")
def import_boundaries_cmd(
    path: Path,
    level: Annotated[Level, typer.Option(help="the level of every feature in the file")],
    code_field: Annotated[str | None, typer.Option(help="field holding the code")] = None,
    name_field: Annotated[str | None, typer.Option(help="field holding the name")] = None,
    parent_field: Annotated[
        str | None, typer.Option(help="field holding the parent's code")
    ] = None,
    crs: CrsOption = None,
    layer: Annotated[str | None, typer.Option(help="layer of a multi-layer file")] = None,
    allow_gaps: Annotated[
        bool, typer.Option(help="report gaps between siblings as warnings (level split over files)")
    ] = False,
) -> None:
    """Import one level's boundaries, all or nothing."""
    settings = get_settings()
    engine = make_engine(settings)
    report = _run(
        lambda: import_boundaries(
            engine,
            settings,
            path,
            level=level,
            code_field=code_field,
            name_field=name_field,
            parent_field=parent_field,
            crs=crs,
            layer=layer,
            allow_gaps=allow_gaps,
        )
    )
    _print_report(report)


def _layer_command(kind: str) -> None:
    def command(path: Path, crs: CrsOption = None) -> None:
        settings = get_settings()
        engine = make_engine(settings)
        _print_report(_run(lambda: import_layer(engine, settings, path, kind=kind, crs=crs)))

    command.__doc__ = f"Import the district's {kind} (upserted by id; bad rows reported)."
    import_app.command(kind)(command)


for _kind in ("buildings", "roads", "pois"):
    _layer_command(_kind)

import_app.command("osm")(import_osm_cmd)


def _records_command(kind: str) -> None:
    def command(path: Path, crs: CrsOption = None) -> None:
        settings = get_settings()
        engine = make_engine(settings)
        try:
            _print_report(_run(lambda: import_records(engine, settings, path, kind=kind, crs=crs)))
        finally:
            engine.dispose()

    command.__doc__ = (
        f"Import {kind} from CSV (UTF-8/GBK), .xlsx, GeoJSON, GeoPackage or Shapefile; "
        "good rows load, every bad row is reported."
    )
    import_app.command(kind)(command)


for _kind in ("incidents", "hazards"):
    _records_command(_kind)


@import_app.command("tracks")
def import_tracks_cmd(
    path: Path,
    crs: CrsOption = None,
    unit: Annotated[str | None, typer.Option(help="unit of rows that name none")] = None,
    kind: Annotated[
        str | None, typer.Option(help="foot, bicycle or vehicle, for rows that name none")
    ] = None,
) -> None:
    """Import patrol GPS fixes (CSV, GPX, GeoJSON, GeoPackage), cleaned, with counts."""
    settings = get_settings()
    engine = make_engine(settings)
    try:
        _print_report(
            _run(lambda: import_tracks(engine, settings, path, crs=crs, unit=unit, kind=kind))
        )
    finally:
        engine.dispose()


@import_app.command("visits")
def import_visits_cmd(
    path: Path,
    crs: CrsOption = None,
    person: Annotated[str | None, typer.Option(help="grid head of rows that name none")] = None,
) -> None:
    """Import grid-head check-ins (CSV, GPX waypoints, GeoJSON), located in their micro-grids."""
    settings = get_settings()
    engine = make_engine(settings)
    try:
        _print_report(_run(lambda: import_checkins(engine, settings, path, crs=crs, person=person)))
    finally:
        engine.dispose()


@app.command("locate")
def locate_cmd() -> None:
    """Re-place every incident, hazard, patrol fix and check-in in the micro-grids.

    A boundary import does this by itself; this is for areas changed by other means.
    """
    settings = get_settings()
    engine = make_engine(settings)
    try:
        moved = _run(lambda: relocate(engine, settings))
    finally:
        engine.dispose()
    out.print(moved.line(), highlight=False)


types_app = typer.Typer(help="The incident type vocabulary.", no_args_is_help=True)
app.add_typer(types_app, name="types")


@types_app.command("list")
def types_list() -> None:
    """List the incident types (code, Chinese and English name, three-zero goal)."""
    engine = make_engine(get_settings())
    try:
        for t in _run(lambda: incident_types(engine)):
            flag = "" if t["builtin"] else "  (added)"
            out.print(
                f"{t['code']}\t{t['name_zh']}\t{t['name_en']}\t{t['zero'] or '-'}{flag}",
                markup=False,
                highlight=False,
            )
    finally:
        engine.dispose()


@types_app.command("add")
def types_add(
    code: str,
    zh: Annotated[str, typer.Option("--zh", help="Chinese name, e.g. 电动车盗窃")],
    en: Annotated[str, typer.Option("--en", help="English name")],
    zero: Annotated[
        str | None, typer.Option(help="three-zero goal it counts against: petition/accident/case")
    ] = None,
) -> None:
    """Add an incident type (or rename one added before); built-in types cannot change."""
    engine = make_engine(get_settings())
    try:
        new = _run(lambda: add_incident_type(engine, code=code, name_zh=zh, name_en=en, zero=zero))
    finally:
        engine.dispose()
    out.print(f"type {code} {'added' if new else 'updated'}", highlight=False)


WORKER_START_S = 60
"""Seconds a new server worker has to come up before uvicorn's supervisor gives up on it."""


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the web maps."""
    _check_accounts(get_settings())
    # With --workers, uvicorn's supervisor pings each new worker and kills it when no answer
    # comes within timeout_worker_healthcheck (5 s by default); a worker answers only once the
    # spawned interpreter has imported this CLI (geopandas, OR-Tools, PyVRP, ...), which took
    # longer than that on a busy 2-core machine, so the workers were killed and respawned for
    # ever and the server never answered. The app reads X-Forwarded-For itself, and only from
    # GRIDSAFE_TRUSTED_PROXIES (api.auth), so uvicorn must not.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_START_S,
        proxy_headers=False,
    )


def _check_accounts(settings: Settings) -> None:
    """Before serving: warn when no account can sign in, and in production mode refuse to
    serve while demo accounts keep the demo password (their sessions and tokens would still
    work, whatever the login says)."""
    engine = make_engine(settings)
    try:
        accounts = list_users(engine)
        left = demo_passwords_left(engine) if settings.mode != "demo" else []
    except SQLAlchemyError:
        return  # no database or no schema yet: the requests will say so
    finally:
        engine.dispose()
    if not any(not u.disabled for u in accounts):
        err.print(
            "no account can sign in yet: add one with "
            "`gridsafe user add NAME --role admin` (production mode has no default account)",
            highlight=False,
        )
    if left:
        names = ", ".join(left)
        err.print(
            f"refusing to serve in production mode: the demo accounts {names} still have the "
            f"demo password; disable them (gridsafe user disable NAME) or set new passwords "
            f"(gridsafe user password NAME), or run in demo mode (GRIDSAFE_MODE=demo)",
            highlight=False,
        )
        raise typer.Exit(1)


def load_demo(settings: Settings, *, now: datetime | None = None) -> None:
    """Load the demo district into the configured database (each step safe to repeat).

    Its activity (incidents, hazards, cases, patrols, check-ins) ends at ``now`` (default: the
    district's now) and reaches back to 1 January of the previous year, and the risk map is
    computed as of that moment, so the pages open complete on the district's today.
    """
    moment = now if now is not None else clock.now(settings.timezone)
    _prepare(settings)
    engine = make_engine(settings)
    try:
        for level in Level:
            path = DEMO_DIR / f"{level.value}.geojson"
            _print_report(_run(partial(import_boundaries, engine, settings, path, level=level)))
        for kind in ("buildings", "roads", "pois"):
            path = DEMO_DIR / f"{kind}.geojson"
            _print_report(_run(partial(import_layer, engine, settings, path, kind=kind)))
        for line in _run(partial(build_network, engine, settings)).lines():
            out.print(line, highlight=False)
        _load_demo_activity(engine, settings, end=moment)
        run_id, risk = _run(partial(run_risk, engine, settings, as_of=moment))
        colours = risk.summary["colours"][Level.MICRO.value]
        out.print(f"risk run {run_id}: micro-grids by colour {colours}", highlight=False)
        opened = _run(partial(seed_demo_cases, engine, settings, now=moment))
        out.print(f"cases: {opened} opened on intake-channel incidents", highlight=False)
        _load_demo_patrols(engine, settings, end=moment)
        if settings.mode == "demo":
            _add_demo_users(engine, settings)
    finally:
        engine.dispose()


def _add_demo_users(engine: Engine, settings: Settings) -> None:
    """One account per role; the grid head's area is the first grid, the member's its first
    micro-grid."""
    with engine.connect() as conn:
        grid3, micro = conn.execute(
            text(
                "SELECT g.code, min(m.code) FROM areas g JOIN areas m ON m.parent_code = g.code "
                "WHERE g.region = :r AND g.level = 'grid3' GROUP BY g.code ORDER BY g.code "
                "LIMIT 1"
            ),
            {"r": settings.region},
        ).one()
    for user in _run(partial(add_demo_users, engine, settings, grid3=grid3, micro=micro)):
        where = f" in {user.scope}" if user.scope else ""
        out.print(
            f"demo account {user.username} ({user.role}{where}), password 'demo'",
            highlight=False,
        )


def _load_demo_patrols(engine: Engine, settings: Settings, *, end: datetime) -> None:
    """Generate the demo's month of patrols (seeded, ending at ``end``) and import it.

    Fixes every 60 s keep the load near 40 s (about 320,000 fixes of 24 units; 30 s doubles it).
    """
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_demo_patrols.py"
    with tempfile.TemporaryDirectory(prefix="gridsafe-patrols-") as tmp:
        subprocess.run(  # noqa: S603 - our own script, run with this interpreter
            [
                *(sys.executable, str(script), "--out", tmp, "--interval", "60"),
                *("--end", end.isoformat(), "--timezone", settings.timezone),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tracks = _run(partial(import_tracks, engine, settings, Path(tmp) / "tracks.csv"))
        registered = _run(partial(register_demo_units, engine, settings, Path(tmp) / "units.csv"))
        out.print(f"patrol units: {registered} registered", highlight=False)
        visits = _run(partial(import_checkins, engine, settings, Path(tmp) / "visits.csv"))
        for line in (*tracks.lines()[:2], visits.lines()[0]):
            out.print(line, markup=False, highlight=False)
    # The last week's closed shifts stored now, so the coverage page's week opens in seconds
    # (geo/coverage/covered.py); the week costs about 20 s more here.
    shifts = _run(partial(refresh, engine, settings, period=last_days(end, 7), now=end))
    stored = f"coverage: covers of {shifts} closed shift(s) of the last week stored"
    out.print(stored, highlight=False)


def _load_demo_activity(engine: Engine, settings: Settings, *, end: datetime) -> None:
    """Generate the demo's incidents and hazards (seeded, ending at ``end``) and import them
    the normal way."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_demo_activity.py"
    with tempfile.TemporaryDirectory(prefix="gridsafe-demo-") as tmp:
        subprocess.run(  # noqa: S603 - our own script, run with this interpreter
            [
                *(sys.executable, str(script), "--boundaries", str(DEMO_DIR), "--out", tmp),
                *("--end", end.isoformat(), "--timezone", settings.timezone),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for name, kind, crs in (
            ("incidents.csv", "incidents", None),
            ("incidents_gcj02.csv", "incidents", "gcj02"),
            ("incidents_address.csv", "incidents", None),
            ("hazards.csv", "hazards", None),
        ):
            report = _run(
                partial(import_records, engine, settings, Path(tmp) / name, kind=kind, crs=crs)
            )
            out.print(report.lines()[0], markup=False, highlight=False)


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load only, do not serve")] = False,
) -> None:
    """Load the demo district (boundaries, buildings, roads, POIs) and serve it, in demo mode."""
    # Demo mode: one account per role with the password 'demo', a banner on every page.
    os.environ["GRIDSAFE_MODE"] = "demo"
    get_settings.cache_clear()
    load_demo(get_settings())
    if not no_serve:
        out.print(f"serving on http://{host}:{port}/ (API docs at /docs)", highlight=False)
        sys.stdout.flush()
        serve(host=host, port=port, workers=1)
