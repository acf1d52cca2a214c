"""The ``gridsafe`` command line."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cli.batch import batch_app
from cli.common import err, fail, out
from cli.risk import risk_app
from cli.routes import import_osm_cmd, network_app, routes_app
from cli.users import user_app
from geo.database import Acting, make_engine, partition_region, prepare_database, set_acting
from geo.errors import GridsafeError
from geo.levels import Level
from geo.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from geo.report import ImportReport

# Each command imports the part of the domain it runs, in its body: an import of incidents then
# starts without the risk engine (scipy, esda, libpysal), the route solvers (OR-Tools, PyVRP),
# the demo's generators or the web server, and `gridsafe --help` without any of them
# (tests/test_cli_startup.py checks which modules a command line start loads).

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
app.add_typer(batch_app, name="batch")


T = TypeVar("T")

CrsOption = Annotated[
    str | None, typer.Option("--crs", help="EPSG code (EPSG:4490, 4326, ...), gcj02 or bd09")
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help=(
            "the platform or ledger the file comes from: ids are unique within a source, and "
            "importing a source's file again updates its rows instead of duplicating them "
            "(default: the file's name without its extension)"
        ),
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help=(
            "FIELD=COLUMN: read FIELD from the file's COLUMN (FIELD=DATE+TIME joins a date "
            "column and a time-of-day column; FIELD= reads it from none); repeat for each "
            "field; kept for the source's next file"
        ),
    ),
]


def _mapping(pairs: list[str] | None) -> dict[str, str | list[str] | None]:
    """``--map`` options as a column mapping (:mod:`geo.imports`)."""
    out: dict[str, str | list[str] | None] = {}
    for pair in pairs or []:
        name, sep, columns = pair.partition("=")
        if not sep or not name.strip():
            err.print(f"--map {pair!r}: write FIELD=COLUMN", highlight=False)
            raise typer.Exit(2)
        parts = [c.strip() for c in columns.split("+") if c.strip()]
        out[name.strip()] = None if not parts else parts[0] if len(parts) == 1 else parts
    return out


def _import(path: Path, kind: str, details: Path | None = None, **kw: Any) -> None:
    """Import ``path`` through the data desk's one way in, and print its report (with
    ``details``, long lists go to that file: see :func:`_print_report`)."""
    from geo.imports import import_file  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        run = _run(lambda: import_file(engine, settings, path, kind=kind, **kw))
    finally:
        engine.dispose()
    out.print(f"import run {run.run_id}", highlight=False)
    _print_report(run.report, details)


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


def _print_report(report: ImportReport, details: Path | None = None) -> None:
    """Print the report; with ``details``, points outside every area are one line and the full
    report (every row) is written to that file."""
    lines = report.lines()
    if details is not None and report.summary_lines(str(details)) != lines:
        details.write_text("\n".join(lines) + "\n", encoding="utf-8")
        lines = report.summary_lines(str(details))
    for line in lines:
        out.print(line, markup=False, highlight=False)
    if report.loaded == 0:
        raise typer.Exit(1)


def _prepare(settings: Settings) -> None:
    out.print(_run(lambda: prepare_database(settings)), highlight=False)


@app.callback()
def main() -> None:
    """Every change the command line makes is audited under the operating-system user."""
    set_acting(Acting(actor=f"cli:{getpass.getuser()}"))
    try:  # a refused GRIDSAFE_* value is reported by name before any command runs
        get_settings()
    except SettingsError as exc:
        raise fail(exc) from exc


@db_app.command("init")
def db_init() -> None:
    """Create the database and schema, or upgrade them; safe to repeat."""
    _prepare(get_settings())


@db_app.command("partition")
def db_partition(
    region: Annotated[
        str | None, typer.Argument(help="the region (default: GRIDSAFE_REGION)")
    ] = None,
) -> None:
    """Give a region its own partition of each big table, moving its rows there from the
    default partitions (one transaction; docs/scaling.md says what it locks)."""
    settings = get_settings()
    name = region or settings.region
    made = _run(lambda: partition_region(settings, name))
    for p in made:
        out.print(f"{p.table}: {p.moved} rows moved into {p.partition}", highlight=False)
    moved = sum(p.moved for p in made)
    out.print(f"region {name}: {len(made)} partitions created, {moved} rows moved", highlight=False)


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
    source: SourceOption = None,
    mapping: MapOption = None,
) -> None:
    """Import one level's boundaries, all or nothing."""
    fields = {"code": code_field, "name": name_field, "parent": parent_field}
    _import(
        path,
        "boundaries",
        level=level,
        crs=crs,
        source=source,
        mapping=_mapping(mapping) | {k: v for k, v in fields.items() if v},
        options={"layer": layer, "allow_gaps": allow_gaps},
    )


def _layer_command(kind: str) -> None:
    def command(
        path: Path, crs: CrsOption = None, source: SourceOption = None, mapping: MapOption = None
    ) -> None:
        _import(path, kind, crs=crs, source=source, mapping=_mapping(mapping))

    command.__doc__ = f"Import the district's {kind} (upserted by id; bad rows reported)."
    import_app.command(kind)(command)


for _kind in ("buildings", "roads", "pois"):
    _layer_command(_kind)

import_app.command("osm")(import_osm_cmd)


ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="file for the full report when points outside the district are summarised "
        "(default: FILE.report.txt in the current directory)",
    ),
]


def _records_command(kind: str) -> None:
    def command(
        path: Path,
        crs: CrsOption = None,
        source: SourceOption = None,
        mapping: MapOption = None,
        report: ReportOption = None,
    ) -> None:
        details = report or Path(f"{path.name}.report.txt")
        _import(path, kind, details, crs=crs, source=source, mapping=_mapping(mapping))

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
    source: SourceOption = None,
    mapping: MapOption = None,
) -> None:
    """Import patrol GPS fixes (CSV, GPX, GeoJSON, GeoPackage), cleaned, with counts."""
    _import(
        path,
        "tracks",
        crs=crs,
        source=source,
        mapping=_mapping(mapping),
        options={"unit": unit, "kind": kind},
    )


@import_app.command("visits")
def import_visits_cmd(
    path: Path,
    crs: CrsOption = None,
    person: Annotated[str | None, typer.Option(help="grid head of rows that name none")] = None,
    source: SourceOption = None,
    mapping: MapOption = None,
) -> None:
    """Import grid-head check-ins (CSV, GPX waypoints, GeoJSON), located in their micro-grids."""
    _import(
        path,
        "visits",
        crs=crs,
        source=source,
        mapping=_mapping(mapping),
        options={"person": person},
    )


@app.command("locate")
def locate_cmd() -> None:
    """Re-place every incident, hazard, patrol fix and check-in in the micro-grids.

    A boundary import does this by itself; this is for areas changed by other means.
    """
    from geo.locate import relocate  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    engine = make_engine(settings.db)
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
    from geo.records import incident_types  # noqa: PLC0415 - see the imports above

    engine = make_engine(get_settings().db)
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
    from geo.records import add_incident_type  # noqa: PLC0415 - see the imports above

    engine = make_engine(get_settings().db)
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
    access_log: Annotated[
        bool, typer.Option(help="log every request (off where a proxy in front logs them)")
    ] = True,
) -> None:
    """Serve the API and the web maps."""
    import uvicorn  # noqa: PLC0415 - see the imports above

    _check_accounts(get_settings())
    # With --workers, uvicorn's supervisor pings each new worker and kills it when no answer
    # comes within timeout_worker_healthcheck (5 s by default); a worker answers only once the
    # spawned interpreter has imported this CLI (geopandas, OR-Tools, PyVRP, ...), which took
    # longer than that on a busy 2-core machine, so the workers were killed and respawned for
    # ever and the server never answered. The app reads X-Forwarded-For itself, and only from
    # GRIDSAFE_TRUSTED_PROXIES (api/routers/login.py), so uvicorn must not.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_START_S,
        proxy_headers=False,
        access_log=access_log,
    )


def _check_accounts(settings: Settings) -> None:
    """Before serving: warn when no account can sign in, and in production mode refuse to
    serve while demo accounts keep the demo password (their sessions and tokens would still
    work, whatever the login says)."""
    from geo.access import demo_passwords_left, list_users  # noqa: PLC0415 - as above

    engine = make_engine(settings.db)
    try:
        accounts = list_users(engine)
        left = demo_passwords_left(engine) if settings.access.mode != "demo" else []
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


def _say(line: str) -> None:
    out.print(line, markup=False, highlight=False)


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load only, do not serve")] = False,
) -> None:
    """Load the demo district (boundaries, buildings, roads, POIs) and serve it, in demo mode."""
    from demo.load import load_demo  # noqa: PLC0415 - see the imports above

    # Demo mode: one account per role with the password 'demo', a banner on every page.
    os.environ["GRIDSAFE_MODE"] = "demo"
    get_settings.cache_clear()
    settings = get_settings()
    _run(lambda: load_demo(settings, say=_say))
    if not no_serve:
        out.print(f"serving on http://{host}:{port}/ (API docs at /docs)", highlight=False)
        sys.stdout.flush()
        serve(host=host, port=port, workers=1)
