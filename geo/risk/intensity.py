"""Incident intensity per micro-grid: harm weight by type × exponential decay by age.

For the incidents of micro-grid i known at the computation's date t (``reported_at <= t``) and
that occurred within the window before it::

    I_i = Σ_k w(type_k) · 0.5 ^ (age_k / h),   age_k = t - occurred_at_k

with w the type weights and h the half-life (settings ``risk_type_weights``,
``risk_half_life_days``; their sources are named there). The counting and the decay sum run in
PostgreSQL (geo/risk/sql/risk_incidents.sql), grouped by micro-grid and type, so ten million
incidents never leave the database; the per-type weights are applied here to those groups.
Intensity is then reported per km² (I_i / area) and, where the population is known,
per 1000 residents.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection

from geo.database import sql
from geo.settings import Settings


def type_weight(settings: Settings, incident_type: str) -> float:
    """The harm weight of a type; a type the settings do not list weighs as ``other``."""
    weights = settings.risk_type_weights
    return float(weights.get(incident_type, weights.get("other", 1.0)))


def incident_groups(
    conn: Connection, settings: Settings, *, region: str, as_of: datetime
) -> pd.DataFrame:
    """Incidents per micro-grid and type known at ``as_of``.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code``, ``type``, ``n`` (count), ``decayed`` (Σ decay factors) and
        ``weighted`` (type weight × decayed), one row per micro-grid and type.
    """
    rows = conn.execute(
        sql("risk_incidents", "geo.risk"),
        {
            "region": region,
            "as_of": as_of,
            "half_life_days": settings.risk_half_life_days,
            "window_days": settings.risk_window_days,
        },
    ).all()
    frame = pd.DataFrame(
        [(r.area_code, r.type, int(r.n), float(r.decayed)) for r in rows],
        columns=["area_code", "type", "n", "decayed"],
    )
    frame["weighted"] = frame["decayed"] * frame["type"].map(
        lambda t: type_weight(settings, str(t))
    ).astype(float)
    return frame
