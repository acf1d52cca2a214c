"""Benchmarks: each script prints a table; the figures and their commands are in RESULTS.md."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from geo.database import scratch_settings
from geo.errors import GridsafeError
from geo.settings import Settings


def bench_settings(database: str, **overrides: Any) -> Settings:
    """Settings of the bench database ``database``, with the benchmarks' own owner and app
    logins, made by the superuser of ``GRIDSAFE_ADMIN_DATABASE_URL`` (else
    ``GRIDSAFE_DATABASE_URL``); drop it with ``geo.database.drop_database``. Exits with the
    reason when that login is no superuser or PostgreSQL cannot be reached."""
    try:
        return scratch_settings(database, "bench", **overrides)
    except GridsafeError as exc:
        raise SystemExit(f"{Path(sys.argv[0]).name}: {exc}") from None
