"""Admission control: a bounded number of requests in flight per worker, a short queue, then 503.

Without it an overloaded worker accepts every connection, queues the requests in its thread pool
and in the database pool, and answers each one later and later until clients time out. With it,
a worker handles at most ``max_in_flight`` requests at once (the default lets each hold a
database connection), lets ``admission_queue`` more wait up to ``admission_wait_s`` for a slot,
and answers the rest at once with ``503 Service Unavailable`` and ``Retry-After``, which a client
or a load balancer can act on. Measured in ``bench/bench_load.py``.
"""

from __future__ import annotations

import asyncio

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from api.shell import shell_for, wants_page
from geo.settings import Settings
from maps.chrome import error_page


class Admission:
    """ASGI middleware admitting at most ``max_in_flight`` requests at once (see the module).

    It puts itself on the app's ``state`` as ``admission``, so its counts can be read.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, state: State) -> None:
        self.app = app
        self.settings = settings
        self.limit = settings.db.max_in_flight
        self.queue = settings.db.admission_queue
        self.wait_s = settings.db.admission_wait_s
        self.retry_after = str(settings.db.retry_after_s)
        self.in_flight = 0
        self.waiting = 0
        state.admission = self
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a test client runs the app in a new loop each
        # time it is opened, a server in one loop per worker.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
            self.in_flight = self.waiting = 0
        return self._slots

    async def _busy(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        headers = {"Retry-After": self.retry_after}
        request = Request(scope)
        response: Response
        if wants_page(request):
            # Before authentication: the page has the header of a visitor, and no database.
            html = error_page(self.settings, shell_for(request), status=503, detail=None)
            response = HTMLResponse(html, status_code=503, headers=headers)
        else:
            detail = f"server busy: {why}; retry in {self.retry_after} s"
            response = JSONResponse({"detail": detail}, status_code=503, headers=headers)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        if slots.locked():
            if self.waiting >= self.queue:
                why = f"{self.limit} requests in progress and {self.waiting} waiting"
                await self._busy(scope, receive, send, why)
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(slots.acquire(), self.wait_s)
            except TimeoutError:
                why = f"no free slot within {self.wait_s:g} s ({self.limit} requests in progress)"
                await self._busy(scope, receive, send, why)
                return
            finally:
                self.waiting -= 1
        else:
            await slots.acquire()
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            slots.release()
