"""Incident intensity per micro-grid: harm weight by type × exponential decay by age.

For the incidents of micro-grid i known at the computation's date t (``reported_at <= t``) and
that occurred within the window before it::

    I_i = Σ_k w(type_k) · 0.5 ^ (age_k / h),   age_k = t - occurred_at_k

with w the type weights and h the half-life (settings ``risk_type_weights``,
``risk_half_life_days``; their sources are named there). The counting and the decay sum run in
PostgreSQL (geo/risk/sql/risk_incidents.sql), grouped by micro-grid and type, so ten million
incidents never leave the database; the per-type weights are applied here to those groups.
Intensity is then reported per km² (I_i / area) and, where the population is known, per 1000
residents.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geo.database import sql
from geo.settings import RiskSettings

AGGREGATE_WORK_MEM_MB = 256
"""Memory for the aggregation by micro-grid and type (about 100 MB for a province's 520,000
groups; set for the transaction only)."""


def type_weight(risk: RiskSettings, incident_type: str) -> float:
    """The harm weight of a type; a type the settings do not list weighs as ``other``."""
    weights = risk.risk_type_weights
    return float(weights.get(incident_type, weights.get("other", 1.0)))


def incident_groups(
    conn: Connection, risk: RiskSettings, *, region: str, as_of: datetime
) -> pd.DataFrame:
    """Incidents per micro-grid and type known at ``as_of``.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code``, ``type``, ``n`` (count), ``decayed`` (Σ decay factors) and
        ``weighted`` (type weight × decayed), one row per micro-grid and type.
    """
    # The groups' hash table in memory: with the default work_mem (4 MB) half a million groups
    # spill to disk in 41 batches, and the aggregation took three times the scan.
    conn.execute(
        text("SELECT set_config('work_mem', :mem, true)"), {"mem": f"{AGGREGATE_WORK_MEM_MB}MB"}
    )
    row = conn.execute(
        sql("risk_incidents", "geo.risk"),
        {
            "region": region,
            "as_of": as_of,
            "half_life_days": risk.risk_half_life_days,
            "window_days": risk.risk_window_days,
        },
    ).one()
    frame = pd.DataFrame(
        {
            "area_code": pd.Series(row.area_code or [], dtype=object),
            "type": pd.Series(row.type or [], dtype=object),
            "n": np.asarray(row.n or [], dtype=np.int64),
            "decayed": np.asarray(row.decayed or [], dtype=np.float64),
        }
    )
    weights = {t: type_weight(risk, str(t)) for t in frame["type"].unique()}
    frame["weighted"] = frame["decayed"] * frame["type"].map(weights).astype(float)
    return frame
