"""Liveness with a database check."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.models.maps import Health
from geo.database import check_database

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(engine: EngineDep) -> dict[str, object]:
    """Return ``ok`` with the database versions; 503 when the database is unreachable."""
    return {"status": "ok", "database": check_database(engine)}
