"""Plans run as background jobs: started, polled for progress, cancelled.

The planning page starts a plan and polls it: a job has an id, a state (``running``,
``done``, ``failed``, ``cancelled``), its stage (gather the candidates, solve, store) and, while
solving, the share of the time limit spent, which is the search's progress (the solver runs to
its limit). Cancelling ends the search at its next iteration and stores nothing.

Jobs live in the serving process (a plan is a few seconds to two minutes of one worker's
thread); finished jobs are forgotten after :data:`KEEP_S`. The plans themselves are stored as
every plan is; a job only carries the id of the one it made.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from geo.errors import GridsafeError, NotFoundError
from geo.routing.plan import PlanCancelledError, Progress

KEEP_S = 3600.0
"""A finished job is answered for an hour, then forgotten."""
WORKERS = 2
"""Plans solved at once; more wait their turn (state ``queued``)."""


@dataclass
class Job(Progress):
    """One plan being made, and what it reports."""

    id: str
    state: str = "queued"
    stage_name: str = "queue"
    started: float = field(default_factory=time.monotonic)
    solve_started: float | None = None
    solve_seconds: float = 0.0
    finished: float | None = None
    plan_id: int | None = None
    error: str | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)

    def stage(self, name: str, *, seconds: float = 0.0) -> None:
        """Record the stage (and, for ``solve``, its time limit)."""
        self.state = "running"
        self.stage_name = name
        if name == "solve":
            self.solve_started, self.solve_seconds = time.monotonic(), seconds

    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the plan to stop; it stores nothing."""
        self._cancel.set()

    def as_dict(self) -> dict[str, Any]:
        """The job as the page polls it: ``id``, ``state``, ``stage``, ``progress`` (0-1),
        ``elapsed_s``, ``plan_id``, ``error``."""
        now = self.finished or time.monotonic()
        if self.state == "done":
            share = 1.0
        elif self.solve_started is not None and self.solve_seconds > 0:
            # Gathering is the first tenth, the search the next eight, storing the last.
            share = 0.1 + 0.8 * min(1.0, (now - self.solve_started) / self.solve_seconds)
        else:
            share = 0.0
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage_name,
            "progress": round(share, 3),
            "elapsed_s": round(now - self.started, 1),
            "plan_id": self.plan_id,
            "error": self.error,
        }


class PlanJobs:
    """The jobs of one serving process."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, run: Callable[[Progress], dict[str, Any]]) -> Job:
        """Run ``run(job)`` in the background (it plans and stores, returning the plan), in a
        copy of the caller's context, so its transactions run in the caller's name."""
        job = Job(uuid.uuid4().hex)
        with self._lock:
            self._forget()
            self._jobs[job.id] = job
        self._pool.submit(contextvars.copy_context().run, self._run, job, run)
        return job

    def _run(self, job: Job, run: Callable[[Progress], dict[str, Any]]) -> None:
        if job.cancelled():  # cancelled while it waited its turn
            job.state, job.finished = "cancelled", time.monotonic()
            return
        try:
            job.plan_id = int(run(job)["id"])
            job.state = "done"
        except PlanCancelledError:
            job.state = "cancelled"
        except GridsafeError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # a job's thread must record every failure for the poller
            job.state, job.error = "failed", f"{type(exc).__name__}: the plan failed"
            raise
        finally:
            job.finished = time.monotonic()

    def get(self, job_id: str) -> Job:
        """The job of that id.

        Raises
        ------
        NotFoundError
            No such job (never started, or forgotten an hour after it ended).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            msg = f"no planning job {job_id!r}"
            raise NotFoundError(msg, code="job_not_found", params={"id": job_id})
        return job

    def _forget(self) -> None:
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items() if j.finished and now - j.finished > KEEP_S]:
            del self._jobs[key]
