"""Plans run as background jobs (:mod:`geo.jobs`): started, polled for progress, cancelled.

The planning page starts a plan and polls it: its stage (gather the candidates, solve, store)
and, while solving, the share of the time limit spent, which is the search's progress (the
solver runs to its limit). Cancelling ends the search at its next iteration and stores nothing.
A job's result is the stored plan's id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geo.jobs import Job, Jobs
from geo.routing.plan import Progress

WORKERS = 2
"""Plans solved at once; more wait their turn (state ``queued``)."""


@dataclass
class PlanJob(Job, Progress):
    """One plan being made, and what it reports."""

    solve_started: float | None = None
    solve_seconds: float = 0.0

    def stage(self, name: str, *, seconds: float = 0.0) -> None:
        """Record the stage (and, for ``solve``, its time limit)."""
        super().stage(name)
        if name == "solve":
            self.solve_started, self.solve_seconds = time.monotonic(), seconds

    def share(self) -> float:
        """Gathering is the first tenth, the search the next eight, storing the last."""
        if self.solve_started is None or self.solve_seconds <= 0:
            return 0.0
        now = self.finished or time.monotonic()
        return 0.1 + 0.8 * min(1.0, (now - self.solve_started) / self.solve_seconds)

    @property
    def plan_id(self) -> int | None:
        """The stored plan, once done."""
        return int(self.result["id"]) if self.result is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The job as the page polls it, with ``plan_id``."""
        return {**super().as_dict(), "plan_id": self.plan_id}


class PlanJobs(Jobs[PlanJob]):
    """The planning jobs of one serving process."""

    def __init__(self, workers: int = WORKERS) -> None:
        super().__init__(PlanJob, workers=workers, name="planning")

    def start(
        self, run: Callable[[PlanJob], dict[str, Any]], *, owner: str | None = None
    ) -> PlanJob:
        """Plan in the background; the job keeps the stored plan's id, not the plan."""
        return super().start(lambda job: {"id": int(run(job)["id"])}, owner=owner)
