"""The ``gridsafe`` command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console

from geo.boundaries import import_boundaries
from geo.database import ensure_database, init_db, make_engine
from geo.errors import GridsafeError
from geo.layers import import_layer
from geo.levels import Level
from geo.report import ImportReport
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

out = Console()
err = Console(stderr=True)

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"

T = TypeVar("T")

CrsOption = Annotated[
    str | None, typer.Option("--crs", help="EPSG code (EPSG:4490, 4326, ...), gcj02 or bd09")
]


def _run(step: Callable[[], T]) -> T:
    """Run a step, turning a domain error into its message and exit code 1 (no traceback)."""
    try:
        return step()
    except GridsafeError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from exc


def _print_report(report: ImportReport) -> None:
    for line in report.lines():
        out.print(line, markup=False, highlight=False)
    if report.loaded == 0:
        raise typer.Exit(1)


def _prepare(settings: Settings) -> None:
    created = _run(lambda: ensure_database(settings))
    engine = make_engine(settings)
    try:
        revision = _run(lambda: init_db(engine, settings))
    finally:
        engine.dispose()
    what = "created" if created else "up to date"
    out.print(f"database {what}, schema at revision {revision}", highlight=False)


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


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the web maps."""
    uvicorn.run("api.main:app", host=host, port=port, workers=workers)


def load_demo(settings: Settings) -> None:
    """Load the demo district into the configured database (each step safe to repeat)."""
    _prepare(settings)
    engine = make_engine(settings)
    try:
        for level in Level:
            path = DEMO_DIR / f"{level.value}.geojson"
            _print_report(_run(partial(import_boundaries, engine, settings, path, level=level)))
        for kind in ("buildings", "roads", "pois"):
            path = DEMO_DIR / f"{kind}.geojson"
            _print_report(_run(partial(import_layer, engine, settings, path, kind=kind)))
    finally:
        engine.dispose()


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load only, do not serve")] = False,
) -> None:
    """Load the demo district (boundaries, buildings, roads, POIs) and serve it."""
    load_demo(get_settings())
    if not no_serve:
        out.print(f"serving on http://{host}:{port}/ (API docs at /docs)", highlight=False)
        sys.stdout.flush()
        serve(host=host, port=port, workers=1)
