"""The security headers every response gets, and the content security policy of pages."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.errors import InputError
from geo.settings import Settings
from maps.basemap import basemap


class SecurityHeaders:
    """Headers every response gets; pages also get a content security policy.

    The policy admits this app's own script files and, of inline scripts, only those carrying
    the response's nonce (``csp_nonce`` in the request's state; the pages put it on every script
    element they generate, ``maps.chrome.with_nonce``): no inline event handler, no injected
    script. Styles may be inline (folium and Leaflet set style attributes and write ``<style>``
    elements); data and images come from the app, and images from the configured basemap's
    tile host. Workers (the phone pages' service worker) come from the app only.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        img = "'self' data: blob:"
        host = _basemap_origin(settings)
        if host:
            img += f" {host}"
        self.rest = (
            "style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self' data:; worker-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
        )

    def policy(self, nonce: str) -> str:
        """The content security policy of a page whose scripts carry ``nonce``."""
        return f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; {self.rest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                # What a caller may see depends on their credentials: no cache keeps it, unless
                # the route says otherwise (tiles and assets, with their ETags).
                headers.setdefault("Cache-Control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.policy(nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _basemap_origin(settings: Settings) -> str | None:
    """The CSP source of the basemap's tile hosts (``*.`` for a subdomain template)."""
    try:
        layers = basemap(settings.maps).layers
    except InputError:
        return None
    sources = set()
    for layer in layers:
        parts = urlsplit(layer.url)
        if not parts.netloc:
            continue  # a tile URL on this site: 'self'
        host = parts.netloc
        if "{" in host:
            host = "*." + host.split(".", 1)[1]
        sources.add(f"{parts.scheme}://{host}")
    return " ".join(sorted(sources)) or None
