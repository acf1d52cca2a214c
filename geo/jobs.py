"""Background jobs of the serving process: started, polled for their progress, cancelled.

A page that starts something long (a route plan, a file import) gets a job at once and polls
it: a job has an id, a state (``queued``, ``running``, ``done``, ``failed``, ``cancelled``), its
stage, its progress (0-1), and once done its result (a small JSON-ready dict, such as the id of
what it stored). Cancelling sets a flag the work reads at its next step; work that stops for it
raises :class:`JobCancelledError` and stores nothing.

Jobs live in the serving process (seconds to minutes of one worker's thread); finished jobs are
forgotten after :data:`KEEP_S`. What a job makes is stored as everything else is; a job only
carries a summary of it. Each kind of job subclasses :class:`Job` for what its progress means
(:mod:`geo.routing.progress` for plans).
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from geo.errors import GridsafeError, NotFoundError

KEEP_S = 3600.0
"""A finished job is answered for an hour, then forgotten."""


class JobCancelledError(GridsafeError):
    """The work stopped because its job was cancelled; it stored nothing."""


@dataclass
class Job:
    """One piece of work running in the background, and what it reports."""

    id: str
    owner: str | None = None
    """Who started it (a user's label): only they see it (:meth:`Jobs.get`)."""
    state: str = "queued"
    stage_name: str = "queue"
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    failure: GridsafeError | None = None
    """The error a failed job ended with (its code and params word it for a reader)."""
    _cancel: threading.Event = field(default_factory=threading.Event)

    def stage(self, name: str) -> None:
        """A stage of the work begins."""
        self.state = "running"
        self.stage_name = name

    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the work to stop at its next step; it stores nothing."""
        self._cancel.set()

    def share(self) -> float:
        """How much of the work is done, 0-1, while it runs (subclasses say how they know)."""
        return 0.0

    def as_dict(self) -> dict[str, Any]:
        """The job as a page polls it: ``id``, ``state``, ``stage``, ``progress`` (0-1),
        ``elapsed_s``, ``error``."""
        now = self.finished or time.monotonic()
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage_name,
            "progress": 1.0 if self.state == "done" else round(min(1.0, self.share()), 3),
            "elapsed_s": round(now - self.started, 1),
            "error": self.error,
        }


J = TypeVar("J", bound=Job)


class Jobs(Generic[J]):
    """The jobs of one kind in one serving process, run by a small pool of threads (more wait
    their turn, state ``queued``)."""

    def __init__(self, make: Callable[[str], J], *, workers: int, name: str) -> None:
        self._make = make
        self._name = name
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._jobs: dict[str, J] = {}
        self._lock = threading.Lock()

    def start(self, run: Callable[[J], dict[str, Any]], *, owner: str | None = None) -> J:
        """Run ``run(job)`` in the background, in a copy of the caller's context (so its
        transactions run in the caller's name); what it returns becomes the job's result."""
        job = self._make(uuid.uuid4().hex)
        job.owner = owner
        with self._lock:
            self._forget()
            self._jobs[job.id] = job
        self._pool.submit(contextvars.copy_context().run, self._run, job, run)
        return job

    def _run(self, job: J, run: Callable[[J], dict[str, Any]]) -> None:
        if job.cancelled():  # cancelled while it waited its turn
            job.state, job.finished = "cancelled", time.monotonic()
            return
        try:
            job.result = run(job)
            job.state = "done"
        except JobCancelledError:
            job.state = "cancelled"
        except GridsafeError as exc:
            job.state, job.error, job.failure = "failed", str(exc), exc
        except Exception as exc:  # a job's thread must record every failure for the poller
            job.state, job.error = "failed", f"{type(exc).__name__}: the {self._name} failed"
            raise
        finally:
            job.finished = time.monotonic()

    def get(self, job_id: str, *, owner: str | None = None) -> J:
        """The job of that id (when ``owner`` is given, only one that caller started).

        Raises
        ------
        NotFoundError
            No such job (never started, someone else's, or forgotten an hour after it ended).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or (owner is not None and job.owner not in (None, owner)):
            msg = f"no {self._name} job {job_id!r}"
            raise NotFoundError(msg, code="job_not_found", params={"id": job_id})
        return job

    def _forget(self) -> None:
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items() if j.finished and now - j.finished > KEEP_S]:
            del self._jobs[key]
