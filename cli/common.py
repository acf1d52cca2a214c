"""What every ``gridsafe`` sub-command shares: its consoles and how a domain error ends it."""

from __future__ import annotations

import typer
from rich.console import Console

from geo.errors import GridsafeError

out = Console()
err = Console(stderr=True)


def fail(exc: GridsafeError) -> typer.Exit:
    """Print a domain error's message (no traceback) and return the exit to raise (code 1)."""
    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    return typer.Exit(1)
