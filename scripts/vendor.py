"""Fetch the browser libraries the web maps use into ``build/vendor`` (run by setup.sh).

The pages never reference a URL outside the app: Leaflet, Leaflet.VectorGrid and Swagger UI
(the API docs at ``/docs``) are fetched at
install time with the ordinary npm client (``npm pack NAME@VERSION``), pinned by version and
checked against the registry's sha512 integrity, and only the files the pages load are kept.
Nothing downloaded is committed (``build/`` is ignored). Safe to repeat: a package already
unpacked is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "build" / "vendor"

# name, version, npm integrity (sha512), files kept (path inside the package -> path in VENDOR)
PACKAGES = [
    (
        "leaflet",
        "1.9.4",
        "nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        {
            "dist/leaflet.js": "leaflet/leaflet.js",
            "dist/leaflet.css": "leaflet/leaflet.css",
            "dist/images/layers.png": "leaflet/images/layers.png",
            "dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
            "dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
            "LICENSE": "leaflet/LICENSE",
        },
    ),
    (
        "leaflet.vectorgrid",
        "1.3.0",
        "kWmj1pKM+MVdo/7Mg5zsB3YrGZvo/uIuiANV9MvWUFOG+Y2xAJzrteDhoIcCgTjHSSRJ36xdeGdIQVhuWjnCZw==",
        {
            "dist/Leaflet.VectorGrid.bundled.min.js": (
                "vectorgrid/Leaflet.VectorGrid.bundled.min.js"
            ),
            "package.json": "vectorgrid/package.json",
        },
    ),
    (
        "swagger-ui-dist",
        "5.35.0",
        "U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        {
            "swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui/swagger-ui.css",
            "favicon-32x32.png": "swagger-ui/favicon-32x32.png",
            "LICENSE": "swagger-ui/LICENSE",
        },
    ),
]


def fetch(name: str, version: str, integrity: str, files: dict[str, str]) -> None:
    """Fetch one npm package tarball with ``npm pack``, verify it, and keep ``files`` from it."""
    stamp = VENDOR / f".{name}-{version}"
    if stamp.exists() and all((VENDOR / dest).exists() for dest in files.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        msg = "npm is needed to fetch the web maps' libraries: apt-get install npm"
        raise SystemExit(msg)
    with tempfile.TemporaryDirectory(prefix="gridsafe-vendor-") as tmp:
        subprocess.run(  # noqa: S603 (fixed arguments: a pinned package name and version)
            [npm, "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=tmp,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        data = tarball.read_bytes()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        msg = f"{name}@{version}: sha512 {digest} does not match the pinned integrity"
        raise SystemExit(msg)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for src, dest in files.items():
            member = tar.extractfile(f"package/{src}")
            if member is None:
                msg = f"{name}@{version} has no file {src}"
                raise SystemExit(msg)
            target = VENDOR / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                shutil.copyfileobj(member, out)
    stamp.touch()
    print(f"vendored {name}@{version}", file=sys.stderr)


def main() -> None:
    """Fetch every pinned package."""
    for name, version, integrity, files in PACKAGES:
        fetch(name, version, integrity, files)


if __name__ == "__main__":
    main()
