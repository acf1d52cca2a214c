"""The four-colour risk engine (四色安全图谱): hazards, incidents and hot spots to colours.

Modules, one concern each: ``hazards`` (assessments counting at a date), ``intensity`` (type
weight × decay per micro-grid, aggregated in SQL), ``smoothing`` (empirical Bayes), ``hotspots``
(Getis-Ord Gi*), ``colours`` (tiers, the significance gate, the score), ``compute`` (one map and
its roll-up), ``store`` (runs and history; what the API and the maps read), ``composite`` (each
level coloured from its own score), ``changes`` (what changed between two dates), ``evaluate``
(hit rate and PAI).
"""

from geo.risk.changes import AreaChange, Changes, risk_changes
from geo.risk.composite import CompositeView, Rule, Weight, composite_view
from geo.risk.compute import AreaRisk, RiskResult, as_of_instant, compute_risk
from geo.risk.evaluate import Evaluation, Score, evaluate
from geo.risk.store import risk_detail, risk_geojson, run_risk, store_run

__all__ = [
    "AreaChange",
    "AreaRisk",
    "Changes",
    "CompositeView",
    "Evaluation",
    "RiskResult",
    "Rule",
    "Score",
    "Weight",
    "as_of_instant",
    "composite_view",
    "compute_risk",
    "evaluate",
    "risk_changes",
    "risk_detail",
    "risk_geojson",
    "run_risk",
    "store_run",
]
