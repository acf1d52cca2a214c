"""Real headless Chromium for end-to-end page tests, driven over the DevTools protocol.

``serve(settings)`` runs the app with uvicorn on a free loopback port in a thread; ``Chromium``
starts /usr/bin/chromium with a fresh profile and HOME, loads a page, records every request and
every console error, waits until the network is idle, and takes a screenshot. The protocol is
spoken with websocket-client, one JSON message per command.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import websocket

from api.app import create_app
from api.auth import SESSION_COOKIE
from geo.access import Role, User
from geo.settings import Settings
from tests.clients import free_port, make_user, session_for

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run the app on a free loopback port; yield its base URL (no trailing slash)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "the app did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class PageLoad:
    """What happened while a page loaded."""

    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class Chromium:
    """One headless Chromium with one tab; use as a context manager."""

    def __init__(self, *, width: int = 1600, height: int = 1000, timeout: float = 30) -> None:
        self.width, self.height, self._timeout = width, height, timeout
        self._dir = Path(tempfile.mkdtemp(prefix="gridsafe-chromium-"))
        profile = self._dir / "profile"
        home = self._dir / "home"
        home.mkdir()
        self._proc = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.close()
                msg = "chromium did not open its DevTools port"
                raise RuntimeError(msg)
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(_http_get(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self._ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout)
        self._id = 0
        self._events: list[dict[str, Any]] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, queueing the events that arrive meanwhile."""
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            self._events.append(msg)

    def sign_in(
        self, base: str, settings: Settings, role: Role = Role.LEADER, scope: str | None = None
    ) -> User:
        """Sign the browser in to the app at ``base`` as a new user of ``role`` (a session
        cookie, as the login form would set it)."""
        user = make_user(settings, role, scope)
        secret, _csrf = session_for(settings, user)
        self.send(
            "Network.setCookie",
            name=SESSION_COOKIE,
            value=secret,
            url=base,
            httpOnly=True,
            sameSite="Lax",
        )
        return user

    def _pump(self, seconds: float) -> None:
        self._ws.settimeout(seconds)
        with contextlib.suppress(websocket.WebSocketTimeoutException):
            self._events.append(json.loads(self._ws.recv()))
        self._ws.settimeout(self._timeout)

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page (promises awaited) and return its value."""
        out = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in out:
            raise RuntimeError(f"{expression}: {out['exceptionDetails']}")
        return out["result"].get("value")

    def load(  # noqa: PLR0912 (one branch per DevTools event kind)
        self, url: str, *, ready: str = "true", screenshot: Path | None = None, timeout: float = 60
    ) -> PageLoad:
        """Load ``url``; wait for the load event, the ``ready`` expression and 1 s of network
        quiet; record requests and console errors; optionally save a PNG screenshot."""
        self._events.clear()
        self.send("Page.navigate", url=url)
        result = PageLoad(url)
        inflight: set[str] = set()
        loaded = False
        quiet_since = time.monotonic()
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self._pump(0.1)
            for ev in self._events[seen:]:
                method, params = ev.get("method"), ev.get("params", {})
                if method == "Network.requestWillBeSent":
                    result.requests.append(params["request"]["url"])
                    inflight.add(params["requestId"])
                elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                    inflight.discard(params["requestId"])
                    if method == "Network.loadingFailed" and not params.get("canceled"):
                        result.errors.append(f"request failed: {params.get('errorText')}")
                elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                    result.errors.append(
                        f"HTTP {params['response']['status']} {params['response']['url']}"
                    )
                elif method == "Page.loadEventFired":
                    loaded = True
                elif method == "Runtime.exceptionThrown":
                    result.errors.append(json.dumps(params["exceptionDetails"])[:500])
                elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                    result.errors.append(
                        " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                    )
                elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                    result.errors.append(f"{params['entry']['text']} {params['entry'].get('url')}")
                if method and method.startswith("Network."):
                    quiet_since = time.monotonic()
            seen = len(self._events)
            now = time.monotonic()
            if loaded and not inflight and now - quiet_since > 1.0 and self.evaluate(ready):
                break
            if now > deadline:
                msg = f"{url} did not settle in {timeout} s (in flight: {len(inflight)})"
                raise TimeoutError(msg)
        if screenshot is not None:
            shot = self.send("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result.screenshot = screenshot
        return result

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        with contextlib.suppress(Exception):
            self._ws.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (DevTools on loopback)
        return str(resp.read().decode())
