"""The web pages' scripts, stylesheets and images, all served by the app itself.

Government networks are often isolated, so no page may load anything from outside the app
(docs/architecture.md, "Offline"). The assets come from three places, none of them a CDN:

- ``build/vendor`` (``settings.maps.vendor_dir``): Leaflet and Leaflet.VectorGrid, fetched from
  the npm registry at install time by ``scripts/vendor.py``, pinned and integrity-checked;
- the installed folium package: its bundled ``leaflet_heat.min.js`` (Leaflet.heat);
- ``maps/static``: gridsafe's own script and stylesheet.

Every asset is in :data:`ASSETS`; the static route serves only those names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from geo.errors import GridsafeError, NotFoundError
from geo.settings import MapSettings, Settings

STATIC_PREFIX = "/static"


class AssetsMissingError(GridsafeError):
    """A vendored asset is not on disk: the install step (scripts/setup.sh) has not run."""


@dataclass(frozen=True)
class Asset:
    """One served file: where it lives (``vendor``, ``folium`` or ``maps``) and its path there."""

    root: str
    path: str

    def file(self, maps: MapSettings) -> Path:
        """The file on disk."""
        if self.root == "vendor":
            return maps.vendor_dir / self.path
        return Path(str(resources.files(self.root).joinpath(self.path)))


ASSETS: dict[str, Asset] = {
    "vendor/leaflet/leaflet.js": Asset("vendor", "leaflet/leaflet.js"),
    "vendor/leaflet/leaflet.css": Asset("vendor", "leaflet/leaflet.css"),
    **{
        f"vendor/leaflet/images/{name}": Asset("vendor", f"leaflet/images/{name}")
        for name in (
            "layers.png",
            "layers-2x.png",
            "marker-icon.png",
            "marker-icon-2x.png",
            "marker-shadow.png",
        )
    },
    "vendor/vectorgrid/vectorgrid.js": Asset(
        "vendor", "vectorgrid/Leaflet.VectorGrid.bundled.min.js"
    ),
    "vendor/leaflet-heat/leaflet-heat.js": Asset("folium", "templates/leaflet_heat.min.js"),
    **{
        f"vendor/swagger-ui/{name}": Asset("vendor", f"swagger-ui/{name}")
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
    },
    "gridsafe/maps.css": Asset("maps", "static/maps.css"),
    "gridsafe/risk.js": Asset("maps", "static/risk.js"),
    "gridsafe/field.js": Asset("maps", "static/field.js"),
    "gridsafe/field.css": Asset("maps", "static/field.css"),
    "gridsafe/field_sw.js": Asset("maps", "static/field_sw.js"),
    "gridsafe/units.js": Asset("maps", "static/units.js"),
    "gridsafe/plan.js": Asset("maps", "static/plan.js"),
    "gridsafe/live.js": Asset("maps", "static/live.js"),
    "gridsafe/spread.js": Asset("maps", "static/spread.js"),
    "gridsafe/admin.js": Asset("maps", "static/admin.js"),
    "gridsafe/imports.js": Asset("maps", "static/imports.js"),
    "gridsafe/docs.js": Asset("maps", "static/docs.js"),
}
"""URL path under :data:`STATIC_PREFIX` → file."""

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def url(name: str) -> str:
    """The app-local URL of a known asset."""
    if name not in ASSETS:
        msg = f"no asset {name!r}"
        raise NotFoundError(msg)
    return f"{STATIC_PREFIX}/{name}"


def asset_file(name: str, settings: Settings) -> tuple[Path, str]:
    """The file and media type of a known asset.

    Raises
    ------
    NotFoundError
        ``name`` is not a known asset (the route serves nothing else).
    AssetsMissingError
        The asset is known but its file is missing.
    """
    if name not in ASSETS:
        msg = f"no asset {name!r}"
        raise NotFoundError(msg)
    path = ASSETS[name].file(settings.maps)
    if not path.is_file():
        msg = f"asset {name!r} is missing at {path}; run scripts/setup.sh to fetch it"
        raise AssetsMissingError(msg)
    return path, MEDIA_TYPES[path.suffix]


def missing_assets(settings: Settings) -> list[str]:
    """The known assets whose files are not on disk (empty when the install is complete)."""
    return [name for name, asset in ASSETS.items() if not asset.file(settings.maps).is_file()]


# A reference with a scheme or a host: anything but an app-local path or inline data.
_EXTERNAL_RE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL_RE = re.compile(r"""url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)
_REF_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction"}


class _References(HTMLParser):
    """Collects what a page makes the browser load: element attributes and CSS ``url()``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in _REF_ATTRIBUTES:
                self.refs += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name == "style":
                self.refs += _CSS_URL_RE.findall(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs += _CSS_URL_RE.findall(data)


def external_urls(html: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every reference in ``html`` that points outside the app, except those starting with
    ``allowed``.

    Only what makes the browser load something counts: the ``src``/``href``-like attributes of
    the page's elements and CSS ``url()``. Text, including names users typed and data embedded
    in scripts, is never a reference, so a name like ``http://example.com`` cannot break a page.
    A script that builds a URL at run time is beyond a static check: the browser tests fail on
    any request that leaves the app.
    """
    parser = _References()
    parser.feed(html)
    parser.close()
    return [ref for ref in parser.refs if _EXTERNAL_RE.match(ref) and not ref.startswith(allowed)]
